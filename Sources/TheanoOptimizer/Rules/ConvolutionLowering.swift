import TheanoCore
import TheanoOps

/// Convolutions and their gradients as patches and matrix products (specialize phase), where
/// the filters' spatial size is static: the products then run on BLAS, the patches on
/// compiled kernels (see ``ConvolutionOp``).
let convolutionToMatrixProducts = Rewrite.node("conv_to_matrix_products",
                                               on: [Convolution.self, ConvolutionGradInputs.self, ConvolutionGradFilters.self]) { node, _ in
    let lowered = switch node.op {
    case let op as Convolution: try op.lowered(node)
    case let op as ConvolutionGradInputs: try op.lowered(node)
    case let op as ConvolutionGradFilters: try op.lowered(node)
    default: nil as Variable?
    }
    return lowered.map { [$0] }
}
