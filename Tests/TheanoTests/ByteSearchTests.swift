import Testing
@testable import TheanoNative

/// The byte searches over generated C text, and the compile cost that balances a module's
/// units, which is built on them.
@Suite("Byte search")
struct ByteSearchTests {
    @Test func offsetsAreFoundLeftToRightWithoutOverlap() {
        #expect(ByteSearch.offsets(of: "aa", in: "aaaaa") == [0, 2])
        #expect(ByteSearch.offsets(of: "ab", in: "abxab") == [0, 3])
        #expect(ByteSearch.offsets(of: "abc", in: "ab").isEmpty)
        #expect(ByteSearch.offsets(of: "", in: "abc").isEmpty)
        #expect(ByteSearch.offsets(of: "é", in: "café é") == [3, 6])  // byte offsets: é is two bytes
        #expect(ByteSearch.contains("theano_philox", in: "x = theano_philox4(k);"))
        #expect(!ByteSearch.contains("theano_philox", in: "theano_philo"))
    }

    @Test func everyOccurrenceIsReplaced() {
        #expect(ByteSearch.replacing("NAME", with: "kernel_12", in: "void NAME_flat(); void NAME_strided();")
            == "void kernel_12_flat(); void kernel_12_strided();")
        #expect(ByteSearch.replacing("NAME", with: "k", in: "NAMENAME") == "kk")
        #expect(ByteSearch.replacing("NAME", with: "k", in: "no match") == "no match")
        #expect(ByteSearch.replacing("x", with: "ü", in: "axbx") == "aübü")
    }

    /// Functions whose loops stay scalar count a quarter of their length; the rest counts whole.
    @Test func scalarLoopFunctionsCostAQuarter() {
        let flat = "void k_flat() { loop; }", strided = "THEANO_SCALAR_LOOPS void k_strided() { loop; }"
        #expect(ModuleSource.compileCost(of: flat) == flat.utf8.count)
        #expect(ModuleSource.compileCost(of: flat + "\n\n" + strided) == flat.utf8.count + strided.utf8.count / 4)
        #expect(ModuleSource.compileCost(of: strided + "\n\n" + flat) == strided.utf8.count / 4 + flat.utf8.count)
    }
}
