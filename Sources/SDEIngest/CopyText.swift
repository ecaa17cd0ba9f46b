import SDEStore
import SDECommon
import SDEExtracts

/// Encodes validated records as rows of PostgreSQL's COPY text format (tab-separated, `\N` for null,
/// backslash escapes), matching the staging tables' column order in ``Ingestor``. The record key is the person's
/// (``RecordKeys``), derived from the record's pseudonym.
enum CopyText {
    static func append(_ record: CareRecord, recordKey: Int64, to out: inout [UInt8]) {
        field(String(record.lineNumber), &out)
        bytea(record.personID, &out)
        field(String(recordKey), &out)
        field(String(record.birthYear), &out)
        field(record.sex.rawValue, &out)
        field(record.ethnicity.rawValue, &out)
        field(record.dateOfDeath?.description, &out)
        field(record.laCode, &out)
        field(record.eventRef, &out)
        field(record.eventType.rawValue, &out)
        field(record.eventStart.description, &out)
        field(record.eventEnd?.description, &out)
        field(record.outcome.rawValue, &out)
        field(record.serviceType?.rawValue, &out)
        field(record.supportReason.rawValue, &out)
        field(record.plannedHours, &out)
        field(record.unitCost, &out, last: true)
    }

    static func append(_ record: HospitalRecord, recordKey: Int64, to out: inout [UInt8]) {
        field(String(record.lineNumber), &out)
        bytea(record.personID, &out)
        field(String(recordKey), &out)
        field(String(record.birthYear), &out)
        field(record.sex.rawValue, &out)
        field(record.laCode, &out)
        field(record.providerCode, &out)
        field(record.spellRef, &out)
        field(record.admissionDate.description, &out)
        field(record.dischargeDate.description, &out)
        field(record.admissionMethod.rawValue, &out)
        field(record.dischargeDestination.rawValue, &out)
        field(record.diagnosisChapter.rawValue, &out, last: true)
    }

    private static func field(_ value: String?, _ out: inout [UInt8], last: Bool = false) {
        if let value {
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: out.append(byte)
                }
            }
        } else {
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        }
        out.append(last ? 0x0A : 0x09)
    }

    /// bytea in hex form; the backslash of `\x` is itself escaped in COPY text.
    private static func bytea(_ bytes: [UInt8], _ out: inout [UInt8]) {
        out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        out.append(contentsOf: Array(Hex.encode(bytes).utf8))
        out.append(0x09)
    }
}
