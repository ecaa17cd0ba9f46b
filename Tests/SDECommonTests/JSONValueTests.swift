import SDECommon
import Testing

@Suite struct JSONValueTests {
    @Test func keysAreSortedAndWhitespaceFree() {
        let value: JSONValue = .object(["b": .int(1), "a": .array([.string("x"), .null, .bool(true)]), "B": .decimal("0.9")])
        #expect(value.canonicalString == #"{"B":0.9,"a":["x",null,true],"b":1}"#)
    }

    @Test func stringsUseMinimalEscapes() {
        let value: JSONValue = .string("a\"b\\c\nd\u{01}é")
        #expect(value.canonicalString == "\"a\\\"b\\\\c\\nd\\u0001é\"")
    }

    @Test func hexRoundTripsAndRejectsJunk() {
        #expect(Hex.encode([0x00, 0xff, 0x10]) == "00ff10")
        #expect(Hex.decode("00FF10") == [0x00, 0xff, 0x10])
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
