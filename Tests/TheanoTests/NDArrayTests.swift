import Testing
import Theano

@Suite("NDArray")
struct NDArrayTests {
    @Test func literalsPickDTypesAndShapes() {
        let ints: NDArray = [[1, 2, 3], [4, 5, 6]]
        #expect(ints.dtype == .int64 && ints.shape == [2, 3])
        let floats: NDArray = [[1, 2.5], [3, 4]]
        #expect(floats.dtype == .float32 && floats.shape == [2, 2])
        #expect(floats.element([0, 1], as: Double.self) == 2.5)
        let scalar: NDArray = 3.5
        #expect(scalar.shape == [] && scalar.scalar(as: Double.self) == 3.5)
    }

    @Test func printsLikeNumPy() {
        #expect(NDArray([[1, 2], [3, 4]] as [[Float]]).description == "array([[1., 2.],\n       [3., 4.]], dtype=float32)")
        #expect(NDArray([1, -20, 300] as [Int32]).description == "array([  1, -20, 300], dtype=int32)")
        #expect(NDArray([true, false]).description == "array([ True, False], dtype=bool)")
        #expect(NDArray([Double.nan, .infinity]).description == "array([nan, inf], dtype=float64)")
    }

    @Test func transposeAndSlicesAreViews() {
        let a = NDArray((0..<6).map(Float.init), shape: [2, 3])
        let t = a.transposed()
        #expect(t.shape == [3, 2] && !t.isContiguous)
        #expect(t.elements(as: Float.self) == [0, 3, 1, 4, 2, 5])
        #expect(t.contiguous().isContiguous && t.contiguous().elements(as: Float.self) == [0, 3, 1, 4, 2, 5])
        #expect(a.reshaped([3, 2]).elements(as: Float.self) == [0, 1, 2, 3, 4, 5])
        #expect(t.reshaped([6]).elements(as: Float.self) == [0, 3, 1, 4, 2, 5])
    }

    @Test func copyOnWrite() {
        let a = NDArray([1, 2, 3] as [Float])
        var b = a
        b.setElement(10.0, at: [0])
        #expect(a.elements(as: Float.self) == [1, 2, 3])
        #expect(b.elements(as: Float.self) == [10, 2, 3])
    }

    @Test func castsLikeC() {
        let a = NDArray([-1.7, 2.9, 300, .nan] as [Double])
        #expect(a.cast(to: .int32).elements(as: Int32.self) == [-1, 2, 300, Int32.min])
        #expect(a.cast(to: .uint8).elements(as: UInt8.self)[2] == 44)  // 300 wraps modulo 256
        #expect(a.cast(to: .bool).elements(as: Bool.self) == [true, true, true, true])
    }

    @Test func approximateComparison() {
        let a = NDArray([1, 2, Float.nan] as [Float])
        #expect(a.isClose(to: NDArray([1, 2.000001, Float.nan] as [Float]), equalNaN: true))
        #expect(!a.isClose(to: NDArray([1, 2.000001, Float.nan] as [Float])))
        #expect(!a.isClose(to: NDArray([1, 2.1, Float.nan] as [Float]), equalNaN: true))
        #expect(a != NDArray([1, 2, Double.nan] as [Double]))
    }

    @Test func idxRoundTrip() throws {
        let path = "/tmp/theano-idx-\(UInt64.random(in: 0...UInt64.max))"
        let array = NDArray((0..<24).map { UInt8($0 * 10) }, shape: [2, 3, 4])
        try IDXFile.write(array, to: path)
        #expect(try IDXFile.read(path) == array)
    }
}
