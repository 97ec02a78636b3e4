import TheanoCore

/// `α·a·b + β·accumulator` with every operand a matrix: what ``Dot``, ``Gemm``, ``Gemv`` and
/// ``Ger`` compute, in the form a gemm routine takes (the native backend calls BLAS with it).
package struct MatrixProduct {
    package let a: NDArray, b: NDArray
    package let alpha: Double, beta: Double
    /// The accumulated matrix, for `gemm`, `gemv` (a column) and `ger`.
    package let accumulator: NDArray?
    /// The shape of the op's result (the product's, before vectors lose their unit dimension).
    package let resultShape: [Int]

    /// Throws when the inner dimensions or the accumulator's shape do not fit.
    package init(a: NDArray, b: NDArray, alpha: Double = 1, beta: Double = 0, accumulator: NDArray? = nil, resultShape: [Int]) throws {
        guard b.shape[0] == a.shape[1] else { throw innerDimensionsDiffer(a.shape, b.shape) }
        if let accumulator, beta != 0, accumulator.shape != [a.shape[0], b.shape[1]] {
            throw OpError("accumulator of shape \(shapeText(accumulator.shape)) does not fit \(a.shape[0])×\(b.shape[1])")
        }
        (self.a, self.b, self.alpha, self.beta, self.accumulator, self.resultShape) = (a, b, alpha, beta, accumulator, resultShape)
    }
}

/// An op whose result is one ``MatrixProduct`` of its inputs.
package protocol MatrixProductOp: Op {
    /// The product the op computes from `inputs`.
    func matrixProduct(_ inputs: [NDArray]) throws -> MatrixProduct
    /// The input the product accumulates into, which it may overwrite; `nil` for none.
    var accumulatedInput: Int? { get }
}

extension NDArray {
    /// A vector as a one-row matrix (`column`: one column); a matrix as itself.
    func asMatrix(column: Bool) -> NDArray {
        ndim == 2 ? self : (column ? expanded([0, nil]) : expanded([nil, 0]))
    }
}

extension Dot: MatrixProductOp {
    package func matrixProduct(_ inputs: [NDArray]) throws -> MatrixProduct {
        try MatrixProduct(a: inputs[0].asMatrix(column: false), b: inputs[1].asMatrix(column: true),
                          resultShape: Array(inputs[0].shape.dropLast()) + Array(inputs[1].shape.dropFirst()))
    }

    package var accumulatedInput: Int? { nil }
}

extension Gemm: MatrixProductOp {
    package func matrixProduct(_ inputs: [NDArray]) throws -> MatrixProduct {
        let offset = accumulates ? 1 : 0
        let (a, b) = (inputs[offset + 1], inputs[offset + 2])
        return try MatrixProduct(a: a, b: b, alpha: inputs[offset].scalar(as: Double.self),
                                 beta: accumulates ? inputs[4].scalar(as: Double.self) : 0,
                                 accumulator: accumulates ? inputs[0] : nil, resultShape: [a.shape[0], b.shape[1]])
    }

    package var accumulatedInput: Int? { accumulates ? 0 : nil }
}

extension Gemv: MatrixProductOp {
    package func matrixProduct(_ inputs: [NDArray]) throws -> MatrixProduct {
        let offset = accumulates ? 1 : 0
        let a = inputs[offset + 1]
        return try MatrixProduct(a: a, b: inputs[offset + 2].asMatrix(column: true), alpha: inputs[offset].scalar(as: Double.self),
                                 beta: accumulates ? inputs[4].scalar(as: Double.self) : 0,
                                 accumulator: accumulates ? inputs[0].expanded([0, nil]) : nil, resultShape: [a.shape[0]])
    }

    package var accumulatedInput: Int? { accumulates ? 0 : nil }
}

/// `A + α·x·yᵀ` as the product of a column and a row.
extension Ger: MatrixProductOp {
    package func matrixProduct(_ inputs: [NDArray]) throws -> MatrixProduct {
        try MatrixProduct(a: inputs[2].expanded([0, nil]), b: inputs[3].expanded([nil, 0]), alpha: inputs[1].scalar(as: Double.self),
                          beta: 1, accumulator: inputs[0], resultShape: inputs[0].shape)
    }

    package var accumulatedInput: Int? { 0 }
}
