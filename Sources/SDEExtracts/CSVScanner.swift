/// One record of a CSV file as split by ``CSVScanner``: pointers into the scanner's buffers, valid until its next call.
struct CSVRecord {
    private let fields: UnsafePointer<UnsafeRawBufferPointer>
    /// The number of fields.
    let fieldCount: Int
    /// The 1-based physical line where the record starts.
    let line: Int
    /// A quoting problem (the fields are still split as well as possible).
    let problem: String?
    /// The record's bytes as in the file, without its line end.
    let raw: UnsafeRawBufferPointer

    init(fields: UnsafePointer<UnsafeRawBufferPointer>, fieldCount: Int, line: Int, problem: String?, raw: UnsafeRawBufferPointer) {
        self.fields = fields
        self.fieldCount = fieldCount
        self.line = line
        self.problem = problem
        self.raw = raw
    }

    /// Field `i`, unquoted.
    @inline(__always)
    func field(_ i: Int) -> UnsafeRawBufferPointer { fields[i] }

    /// Whether every byte of the record is ASCII (then every field is valid UTF-8).
    var allASCII: Bool {
        var bits: UInt8 = 0
        for byte in raw { bits |= byte }
        return bits < 0x80
    }
}

/// A streaming RFC 4180 tokenizer over bytes.
///
/// It reads a file in chunks into one buffer (memory stays flat: at most the chunk size, or one record when a record is
/// larger), skips a UTF-8 byte order mark, accepts CRLF and LF line ends, quoted fields with commas, doubled quotes and
/// line breaks, and a last record without a line end. Records are returned as ``CSVRecord``s: unquoted fields point into
/// the read buffer, quoted ones into a scratch area where their doubled quotes are undone.
final class CSVScanner {
    let fileName: String
    private let input: InputFile?
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var started = false
    private var nextLine = 1
    private var bytesFromInput = 0
    private let maxRecordBytes: Int
    /// Unescaped quoted fields of the current record (as large as `buffer`, which bounds a record).
    private var data: UnsafeMutableRawBufferPointer
    /// The current record's fields.
    private var fields: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>

    /// A scanner over a file, reading `chunkSize` bytes at a time; a record longer than `maxRecordBytes` is an error.
    init(file: InputFile, chunkSize: Int = 1 << 20, maxRecordBytes: Int = 1 << 20) {
        fileName = baseName(file.path)
        input = file
        self.maxRecordBytes = max(maxRecordBytes, chunkSize)
        buffer = .allocate(byteCount: max(chunkSize, 16), alignment: 16)
        data = .allocate(byteCount: buffer.count, alignment: 16)
        fields = .allocate(capacity: 64)
    }

    /// A scanner over bytes already in memory.
    init(bytes: [UInt8], fileName: String) {
        self.fileName = fileName
        input = nil
        maxRecordBytes = max(bytes.count, 16)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 16), alignment: 16)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        self.buffer = buffer
        data = .allocate(byteCount: buffer.count, alignment: 16)
        fields = .allocate(capacity: 64)
        end = bytes.count
        atEOF = true
    }

    deinit {
        buffer.deallocate()
        data.deallocate()
        fields.deallocate()
    }

    /// The next record, or `nil` at the end of the input; the record is valid until the next call.
    func nextRecord() throws(ExtractError) -> CSVRecord? {
        if !started {
            started = true
            if !atEOF { try refill() }
            if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF { start += 3 }
        }
        while true {
            if start == end {
                if atEOF { return nil }
                try refill()
                continue
            }
            if let record = parseRecord(final: atEOF) { return record }
            try refill()
        }
    }

    /// Bytes of the input consumed so far (read and scanned past), for progress.
    var bytesConsumed: Int { bytesFromInput - (end - start) }

    /// Moves unread bytes to the front, grows the buffer if one record fills it, and reads more.
    private func refill() throws(ExtractError) {
        guard let input else {
            atEOF = true
            return
        }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: remaining) }
            start = 0
            end = remaining
        }
        if end == buffer.count {
            guard buffer.count < maxRecordBytes else { throw .recordTooLong(fileName, line: nextLine, limit: maxRecordBytes) }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, maxRecordBytes), alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
            data.deallocate()
            data = .allocate(byteCount: buffer.count, alignment: 16)
        }
        let n = try input.readBytes(into: buffer.baseAddress! + end, count: buffer.count - end)
        if n == 0 { atEOF = true }
        end += n
        bytesFromInput += n
    }

    /// Doubles the room for fields.
    private func growFields() {
        let bigger = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: fields.count * 2)
        _ = bigger.initialize(from: fields)
        fields.deallocate()
        fields = bigger
    }

    /// Splits the record at `start`; `nil` when the buffer ends before the record does and more input may follow.
    private func parseRecord(final: Bool) -> CSVRecord? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let buf = UnsafePointer<UInt8>(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let out = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let end = self.end
        let recordStart = start
        var found = fields.baseAddress!
        var capacity = fields.count
        var count = 0
        var p = recordStart
        var o = 0
        var lines = 0
        var problem: String?

        @inline(__always) func addField(_ from: UnsafePointer<UInt8>, _ to: UnsafePointer<UInt8>) {
            if count == capacity {
                growFields()
                found = fields.baseAddress!
                capacity = fields.count
            }
            found[count] = UnsafeRawBufferPointer(start: from, count: to - from)
            count += 1
        }
        /// Completes the record: the raw bytes end at `rawEnd`, the next record starts at `next`.
        @inline(__always) func record(rawEnd: Int, next: Int, lines: Int) -> CSVRecord {
            let line = nextLine
            nextLine += lines
            start = next
            return CSVRecord(
                fields: UnsafePointer(found), fieldCount: count, line: line, problem: problem,
                raw: UnsafeRawBufferPointer(start: buf + recordStart, count: rawEnd - recordStart)
            )
        }

        fields: while true {
            // A quoted field is unescaped into `out`; an unquoted one stays where it is in `buf`.
            var quoted = false
            var from = buf + p
            if p < end && buf[p] == quote {
                quoted = true
                p += 1
                let unescaped = o
                while true {
                    guard p < end else {
                        guard final else { return nil }
                        addField(out + unescaped, out + o)
                        problem = "unterminated quoted field"
                        return record(rawEnd: end, next: end, lines: lines)
                    }
                    let c = buf[p]
                    if c == quote {
                        guard p + 1 < end || final else { return nil }
                        if p + 1 < end && buf[p + 1] == quote {
                            out[o] = quote
                            o += 1
                            p += 2
                            continue
                        }
                        p += 1
                        break
                    }
                    if c == lf { lines += 1 }
                    out[o] = c
                    o += 1
                    p += 1
                }
                from = UnsafePointer(out + unescaped)
            }
            let fieldEnd = quoted ? UnsafePointer(out + o) : nil
            // The rest of the field up to a comma or line end; after a closing quote nothing may follow.
            while p < end {
                let c = buf[p]
                if c > comma || (c != comma && c != lf && c != cr && c != quote) {
                    if quoted && problem == nil { problem = "text after a closing quote" }
                    p += 1
                    continue
                }
                if c == comma {
                    addField(from, fieldEnd ?? buf + p)
                    p += 1
                    continue fields
                }
                if c == lf {
                    addField(from, fieldEnd ?? buf + p)
                    return record(rawEnd: p, next: p + 1, lines: lines + 1)
                }
                if c == cr {
                    guard p + 1 < end || final else { return nil }
                    if p + 1 == end || buf[p + 1] == lf {
                        addField(from, fieldEnd ?? buf + p)
                        return record(rawEnd: p, next: min(p + 2, end), lines: lines + 1)
                    }
                } else if problem == nil {
                    problem = quoted ? "text after a closing quote" : "quote inside an unquoted field"
                }
                if quoted && problem == nil { problem = "text after a closing quote" }
                p += 1
            }
            // The buffer ends inside this field.
            guard final else { return nil }
            addField(from, fieldEnd ?? buf + end)
            return record(rawEnd: end, next: end, lines: lines)
        }
    }
}
