@testable import Theano
@testable import TheanoAutodiff
@testable import TheanoCore
@testable import TheanoOps

// The records of the elementwise ops. Most are made by `unaryElementwise` or
// `binaryElementwise` from one builder that every facet applies.

/// The distributions of a binary elementwise op's operands in its gradient cases.
struct OperandDistributions: Sendable {
    let lhs: GradientInput.Distribution, rhs: GradientInput.Distribution
}

extension Facet where Case == GradientInput {
    /// Checked at one point drawn as `input` says.
    static func at(_ input: GradientInput) -> Self { .checked([input]) }
}

extension Facet where Case == OperandDistributions {
    /// Checked on operands drawn from `lhs` and `rhs`.
    static func operands(_ lhs: GradientInput.Distribution, _ rhs: GradientInput.Distribution) -> Self {
        .checked([OperandDistributions(lhs: lhs, rhs: rhs)])
    }
}

extension Facet {
    /// The facet with each case replaced by the cases `transform` makes of it.
    func flatMap<T>(_ transform: (Case) -> [T]) -> Facet<T> {
        switch self {
        case .checked(let cases): .checked(cases.flatMap(transform))
        case .notApplicable(let reason): .notApplicable(because: reason)
        case .checkedElsewhere(let tests): .checkedElsewhere(by: tests)
        }
    }

    /// Forward mode checked on the gradient cases when this (gradient) facet is checked, not
    /// at all (for the same reason) when it is not.
    var forwardMode: ForwardModeCheck {
        switch self {
        case .checked: .onGradientCases
        case .notApplicable(let reason): .notApplicable(because: reason)
        case .checkedElsewhere(let tests): .notApplicable(because: Reason(stringLiteral: "checked by \(tests)"))
        }
    }
}

extension OpRecord {
    typealias Unary = @Sendable (Variable) throws -> Variable
    typealias Binary = @Sendable (Variable, Variable) throws -> Variable

    /// A unary elementwise op that `build` applies, under the name `name` in every facet: the
    /// fixture op `name`, a gradient case at each point of `gradient` (also run in forward
    /// mode), a shape case of a matrix, a native loop for every dtype `accepts` takes, and
    /// the static type of its gradient for a `[1, n]` operand (`sizeOneOperand` applies the
    /// op there when `build` would be given values outside its domain).
    static func unaryElementwise<O: Op>(_ type: O.Type, _ name: String, gradient: Facet<GradientInput>,
                                        native precision: NativeElementwiseCase.Precision,
                                        accepts: @escaping @Sendable (DType) -> Bool = { _ in true },
                                        sizeOneOperand: Unary? = nil, _ build: @escaping Unary) -> OpRecord {
        OpRecord(type,
                 values: .checked([.builds(.unary(name, build))]),
                 gradients: gradient.flatMap { [.unary(name, $0, build)] },
                 forwardMode: gradient.forwardMode,
                 gradientTypes: .checked([.unary(name, sizeOneOperand ?? build)]),
                 shapes: .checked([ShapeCase(name, .matrix, build)]),
                 native: .checked([.elementwise(.unary(name, precision, accepts: accepts, build))]))
    }

    /// A binary elementwise op that `build` applies, under the name `name` in every facet: the
    /// fixture op `name` (with a Swift number on either side where `numberOnRight` and
    /// `numberOnLeft` say how), gradient cases in every operand layout of
    /// ``GradientCase/operandLayouts`` (also run in forward mode), a shape case of a matrix
    /// with a broadcastable row, a native loop, and the static types of its gradients for
    /// `[1, n]` and `[m, 1]` operands.
    static func binaryElementwise<O: Op>(_ type: O.Type, _ name: String, gradient: Facet<OperandDistributions>,
                                         native precision: NativeElementwiseCase.Precision = .exact,
                                         numberOnRight: FixtureOp.NumberOnRight? = nil, numberOnLeft: FixtureOp.NumberOnLeft? = nil,
                                         _ build: @escaping Binary) -> OpRecord {
        OpRecord(type,
                 values: .checked([.builds(.binary(name, build, numberOnRight: numberOnRight, numberOnLeft: numberOnLeft))]),
                 gradients: gradient.flatMap { GradientCase.everyLayout(name, $0.lhs, $0.rhs, build) },
                 forwardMode: gradient.forwardMode,
                 gradientTypes: .checked([.binary(name, build)]),
                 shapes: .checked([ShapeCase("\(name) (m, n) with (1, n)", .matrix, .broadcastRow, build)]),
                 native: .checked([.elementwise(.binary(name, precision, build))]))
    }
}

extension OpRecords {
    static let elementwise = unaryFloat + unaryNumeric + arithmetic + comparisons + otherElementwise

    static let unaryFloat: [OpRecord] = [
        .unaryElementwise(Exp.self, "exp", gradient: .at(.uniform(matrix)), native: .ulps) { try exp($0) }
            .adding(values: [.builds(.unary("exp_log") { try exp(log($0)) })]),
        .unaryElementwise(ExpMinusOne.self, "expm1", gradient: .at(.uniform(matrix)), native: .ulps) { try expm1($0) },
        .unaryElementwise(Log.self, "log", gradient: .at(.positive(matrix)), native: .ulps) { try log($0) }
            .adding(values: [
                .builds(.unary("log_exp") { try log(exp($0)) }),
                .builds(.binary("binary_crossentropy") { try binaryCrossentropy($0, $1) }),
            ], gradients: [
                .binary("categoricalCrossentropy w.r.t. probabilities and targets", .positive([3, 5]), .uniform([3, 5], 0...1)) {
                    try categoricalCrossentropy($0, $1)
                },
                .binary("binaryCrossentropy w.r.t. probabilities and targets", .uniform(matrix, 0.1...0.9), .uniform(matrix, 0...1)) {
                    try binaryCrossentropy($0, $1)
                },
            ]),
        .unaryElementwise(LogOnePlus.self, "log1p", gradient: .at(.uniform(matrix, -0.5...2)), native: .ulps) { try log1p($0) },
        .unaryElementwise(Log2.self, "log2", gradient: .at(.positive(matrix)), native: .ulps) { try log2($0) },
        .unaryElementwise(Log10.self, "log10", gradient: .at(.positive(matrix)), native: .ulps) { try log10($0) },
        .unaryElementwise(SquareRoot.self, "sqrt", gradient: .at(.positive(matrix)), native: .exact) { try sqrt($0) },
        .unaryElementwise(Reciprocal.self, "reciprocal", gradient: .at(.awayFromZero(matrix, 0.5...2)), native: .exact) { try reciprocal($0) },
        .unaryElementwise(Sin.self, "sin", gradient: .at(.uniform(matrix)), native: .ulps) { try sin($0) },
        .unaryElementwise(Cos.self, "cos", gradient: .at(.uniform(matrix)), native: .ulps) { try cos($0) },
        .unaryElementwise(Tan.self, "tan", gradient: .at(.uniform(matrix, -1...1)), native: .ulps) { try tan($0) },
        .unaryElementwise(ArcSin.self, "arcsin", gradient: .at(.uniform(matrix, -0.9...0.9)), native: .ulps,
                          sizeOneOperand: { try arcsin($0 * 0.5) }) { try arcsin($0) },
        .unaryElementwise(ArcCos.self, "arccos", gradient: .at(.uniform(matrix, -0.9...0.9)), native: .ulps,
                          sizeOneOperand: { try arccos($0 * 0.5) }) { try arccos($0) },
        .unaryElementwise(ArcTan.self, "arctan", gradient: .at(.uniform(matrix)), native: .ulps) { try arctan($0) },
        .unaryElementwise(Sinh.self, "sinh", gradient: .at(.uniform(matrix)), native: .ulps) { try sinh($0) },
        .unaryElementwise(Cosh.self, "cosh", gradient: .at(.uniform(matrix)), native: .ulps) { try cosh($0) },
        .unaryElementwise(Tanh.self, "tanh", gradient: .at(.uniform(matrix)), native: .ulps) { try tanh($0) }
            .adding(gradients: [.unary("second order: grad of sum(tanh(x))", .uniform([4])) { try grad(sum(tanh($0)), wrt: [$0])[0] }]),
        .unaryElementwise(Erf.self, "erf", gradient: .at(.uniform(matrix)), native: .ulps) { try erf($0) },
        .unaryElementwise(Erfc.self, "erfc", gradient: .at(.uniform(matrix)), native: .ulps) { try erfc($0) },
        .unaryElementwise(Erfinv.self, "erfinv", gradient: .at(.uniform(matrix, -0.9...0.9)), native: .ulps,
                          sizeOneOperand: { try erfinv($0 * 0.5) }) { try erfinv($0) },
        .unaryElementwise(Sigmoid.self, "sigmoid", gradient: .at(.uniform(matrix, -4...4)), native: .ulps) { try sigmoid($0) }
            .adding(values: [.builds(.unary("one_minus_sigmoid") { try 1 - sigmoid($0) })]),
        .unaryElementwise(Softplus.self, "softplus", gradient: .at(.uniform(matrix, -4...4)), native: .ulps) { try softplus($0) }
            .adding(values: [
                .builds(.unary("log_one_plus_exp") { try log(1 + exp($0)) }), .builds(.unary("log1p_exp") { try log1p(exp($0)) }),
            ], gradients: [
                .unary("binaryCrossentropy of sigmoid", .uniform(matrix)) { try binaryCrossentropy(sigmoid($0), constant(binaryTargets)) },
            ]),
        .unaryElementwise(LogOneMinusExp.self, "log1mexp", gradient: .at(.uniform(matrix, -4...(-0.05))), native: .ulps,
                          sizeOneOperand: { try log1mexp(-$0) }) { try log1mexp($0) }
            .adding(values: [
                .builds(.unary("log_one_minus_exp") { try log(1 - exp($0)) }), .builds(.unary("log1p_neg_exp") { try log1p(-exp($0)) }),
            ]),
        .unaryElementwise(Floor.self, "floor", gradient: .notApplicable(because: .piecewiseConstant), native: .exact) { try floor($0) },
        .unaryElementwise(Ceil.self, "ceil", gradient: .notApplicable(because: .piecewiseConstant), native: .exact) { try ceil($0) },
        .unaryElementwise(Round.self, "round", gradient: .notApplicable(because: .piecewiseConstant), native: .exact,
                          accepts: { $0.isFloat }) { try round($0) }
            .adding(values: [.builds(.unary("round_half_away_from_zero") { try round($0, mode: .halfAwayFromZero) })],
                    native: [
                        .elementwise(.unary("round half away from zero", .exact, accepts: { $0.isFloat }) { try round($0, mode: .halfAwayFromZero) }),
                    ]),
        .unaryElementwise(IsNaN.self, "isnan", gradient: .notApplicable(because: .booleanOutput), native: .exact) { try isnan($0) },
        .unaryElementwise(IsInf.self, "isinf", gradient: .notApplicable(because: .booleanOutput), native: .exact) { try isinf($0) },
    ]

    static let unaryNumeric: [OpRecord] = [
        .unaryElementwise(Negate.self, "neg", gradient: .at(.uniform(matrix)), native: .exact, accepts: { $0 != .bool }) { try -$0 },
        .unaryElementwise(Absolute.self, "abs", gradient: .at(.awayFromZero(matrix)), native: .exact) { try abs($0) },
        .unaryElementwise(Sign.self, "sign", gradient: .notApplicable(because: .piecewiseConstant), native: .exact) { try sign($0) },
        .unaryElementwise(Square.self, "sqr", gradient: .at(.uniform(matrix)), native: .exact) { try sqr($0) },
    ]

    static let arithmetic: [OpRecord] = [
        .binaryElementwise(Add.self, "add", gradient: .operands(real, real), numberOnRight: { try $0 + $1 }, numberOnLeft: { try $0 + $1 }) {
            try $0 + $1
        }
        .adding(shapes: ShapeInput.broadcastLayouts.map { layout in ShapeCase("add \(layout.name)", layout.lhs, layout.rhs) { try $0 + $1 } }),
        .binaryElementwise(Subtract.self, "sub", gradient: .operands(real, real), numberOnRight: { try $0 - $1 }, numberOnLeft: { try $0 - $1 }) {
            try $0 - $1
        },
        .binaryElementwise(Multiply.self, "mul", gradient: .operands(real, real), numberOnRight: { try $0 * $1 }, numberOnLeft: { try $0 * $1 }) {
            try $0 * $1
        }
        .adding(values: [.builds(.binary("outer") { try outer($0, $1) })], gradients: [
            .binary("outer", .uniform([3]), .uniform([4])) { try outer($0, $1) },
            .binary("outer of a matrix and a vector", .uniform([2, 3]), .uniform([4])) { try outer($0, $1) },
            .binary("outer of a scalar and a tensor3", .uniform([]), .uniform(tensor3)) { try outer($0, $1) },
        ], shapes: [
            ShapeCase("outer of a matrix and a vector", .matrix, .floats([2])) { try outer($0, $1) },
        ]),
        .binaryElementwise(Divide.self, "true_div", gradient: .operands(real, .awayFromZero(0.5...2)),
                           numberOnRight: { try $0 / $1 }, numberOnLeft: { try $0 / $1 }) { try $0 / $1 },
        .binaryElementwise(FloorDivide.self, "int_div", gradient: .notApplicable(because: .piecewiseConstant)) { try intDiv($0, $1) },
        .binaryElementwise(Remainder.self, "mod", gradient: .operands(.uniform(0.5...3), .uniform(0.7...1.3)), numberOnRight: { try $0 % $1 }) {
            try $0 % $1
        }
        .adding(gradients: [
            .unary("mod by a constant", .positive(matrix)) { try $0 % 0.7 },
            .binary("mod with mixed signs", .uniform(matrix, -3...3), .awayFromZero(matrix, 0.7...1.3)) { try $0 % $1 },
        ]),
        .binaryElementwise(Power.self, "pow", gradient: .operands(.uniform(0.5...2), real), native: .ulps, numberOnRight: { try pow($0, $1) }) {
            try pow($0, $1)
        }
        .adding(gradients: [
            .unary("pow with a constant exponent", .positive(matrix)) { try pow($0, 2.5) },
            .unary("pow of negative bases to the constant exponent 3", .uniform(matrix)) { try pow($0, 3) },
            .unary("second order: grad of sum(x³)", .uniform([4])) { try grad(sum(pow($0, 3)), wrt: [$0])[0] },
        ]),
        .binaryElementwise(Maximum.self, "maximum", gradient: .operands(real, real)) { try maximum($0, $1) }
            .adding(values: [.builds(.unary("relu") { try relu($0) })], gradients: [.unary("relu", .awayFromZero(matrix)) { try relu($0) }]),
        .binaryElementwise(Minimum.self, "minimum", gradient: .operands(real, real)) { try minimum($0, $1) },
        .binaryElementwise(ArcTan2.self, "arctan2", gradient: .operands(.awayFromZero(0.2...2), .awayFromZero(0.2...2)), native: .ulps) {
            try arctan2($0, $1)
        },
    ]

    static let comparisons: [OpRecord] = [
        .binaryElementwise(Equal.self, "eq", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try eq($0, $1) }) { try eq($0, $1) },
        .binaryElementwise(NotEqual.self, "neq", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try neq($0, $1) }) {
            try neq($0, $1)
        },
        .binaryElementwise(Less.self, "lt", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try lt($0, $1) }) { try lt($0, $1) },
        .binaryElementwise(LessEqual.self, "le", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try le($0, $1) }) {
            try le($0, $1)
        },
        .binaryElementwise(Greater.self, "gt", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try gt($0, $1) }) { try gt($0, $1) },
        .binaryElementwise(GreaterEqual.self, "ge", gradient: .notApplicable(because: .booleanOutput), numberOnRight: { try ge($0, $1) }) {
            try ge($0, $1)
        },
    ]

    /// The bitwise functions take integers and booleans; their facets that need float
    /// operands compare floats first.
    static let otherElementwise: [OpRecord] = [
        OpRecord(BitwiseBinary.self,
                 values: .checked([
                     .builds(.binary("and") { try and($0, $1) }), .builds(.binary("or") { try or($0, $1) }),
                     .builds(.binary("xor") { try xor($0, $1) }), .builds(.binary("&") { try $0 & $1 }),
                     .builds(.binary("|") { try $0 | $1 }), .builds(.binary("^") { try $0 ^ $1 }),
                 ]),
                 gradients: .notApplicable(because: .booleanOutput), forwardMode: .notApplicable(because: .booleanOutput),
                 gradientTypes: .checked([.binary("and") { try and(gt($0, 1), gt($1, 1)) }]),
                 shapes: .checked([
                     ShapeCase("and (m, n) with (1, n)", .matrix, .broadcastRow) { try and(gt($0, 0), gt($1, 0)) },
                     ShapeCase("or (m, n) with (1, n)", .matrix, .broadcastRow) { try or(gt($0, 0), gt($1, 0)) },
                     ShapeCase("xor (m, n) with (1, n)", .matrix, .broadcastRow) { try xor(gt($0, 0), gt($1, 0)) },
                 ]),
                 native: .checked([
                     .elementwise(.binary("and", accepts: { !$0.isFloat }) { try and($0, $1) }),
                     .elementwise(.binary("or", accepts: { !$0.isFloat }) { try or($0, $1) }),
                     .elementwise(.binary("xor", accepts: { !$0.isFloat }) { try xor($0, $1) }),
                 ])),
        OpRecord(Invert.self,
                 values: .checked([.builds(.unary("not") { try not($0) }), .builds(.unary("~") { try ~$0 })]),
                 gradients: .notApplicable(because: .booleanOutput), forwardMode: .notApplicable(because: .booleanOutput),
                 gradientTypes: .checked([.unary("not(x > 1)") { try not(gt($0, 1)) }]),
                 shapes: .checked([ShapeCase("not", .matrix) { try not(gt($0, 0)) }]),
                 native: .checked([.elementwise(.unary("not", .exact, accepts: { !$0.isFloat }) { try not($0) })])),
        OpRecord(Cast.self,
                 values: .checked([.builds(.withParameters("cast") { x, params in try cast(x[0], to: params.dtype("dtype")) })]),
                 gradients: .checked([
                     .unary("cast float64 to float32", .uniform(matrix), tolerance: .float32) { try cast($0, to: .float32) },
                     .unary("cast float64 to float32 and back", .uniform(matrix), tolerance: .float32) {
                         try cast(cast($0, to: .float32), to: .float64)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([.unary("cast to float32") { try cast($0, to: .float32) }]),
                 shapes: .checked([ShapeCase("cast to int32", .matrix) { try cast($0, to: .int32) }]),
                 native: .checked(DType.allCases.map { target in
                     .elementwise(.unary("cast{\(target)}", .exact, accepts: { $0 != target }) { try cast($0, to: target) })
                 })),
        OpRecord(Switch.self,
                 values: .checked([
                     .builds(.ternary("switch") { try `switch`($0, $1, $2) }), .builds(.ternary("where") { try `where`($0, $1, $2) }),
                     .builds(.withParameters("leaky_relu") { x, params in try relu(x[0], alpha: params.literal("alpha")) }),
                     .builds(.binary("leaky_relu_tensor") { try relu($0, alpha: $1) }),
                 ]),
                 gradients: .checked([
                     .ternary("switch", .awayFromZero(matrix), .uniform(matrix), .uniform(matrix)) { try `switch`(gt($0, 0), $1, $2) },
                     .ternary("switch with a (1, n) and a scalar branch", .awayFromZero(matrix), .uniform([1, 4]), .uniform([])) {
                         try `switch`(gt($0, 0), $1, $2)
                     },
                     .unary("leaky relu with alpha 0.1", .awayFromZero(matrix)) { try relu($0, alpha: 0.1) },
                     .unary("leaky relu with alpha -0.5", .awayFromZero(matrix)) { try relu($0, alpha: -0.5) },
                     .binary("leaky relu w.r.t. x and a row of slopes", .awayFromZero(matrix), .uniform([4], 0...1)) { try relu($0, alpha: $1) },
                     .binary("leaky relu of a column with a (1, n) row of slopes", .awayFromZero([3, 1]), .uniform([1, 4], 0...1)) {
                         try relu($0, alpha: $1)
                     },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("switch with [1, n], [m, 1] and [1, 1] operands", [[1, 3], [2, 1], [1, 1]]) {
                         try `switch`(gt($0[0], 1), $0[1], $0[2])
                     },
                 ]),
                 shapes: .checked([
                     ShapeCase("switch with a broadcast branch", [.matrix, .broadcastRow, .real(0)]) { try `switch`(gt($0[0], 0), $0[1], $0[2]) },
                 ]),
                 native: .checked([.elementwise(.ternary("switch") { try `switch`($0, $1, $2) })])),
        OpRecord(Clip.self,
                 values: .checked([
                     .builds(.withParameters("clip") { x, params in
                         x.count == 3 ? try clip(x[0], x[1], x[2]) : try clip(x[0], params.literal("low"), params.literal("high"))
                     }),
                 ]),
                 gradients: .checked([
                     .unary("clip to constant bounds", .uniform(matrix)) { try clip($0, -1, 1) },
                     .ternary("clip to symbolic bounds (scalar low, (1, n) high)", .uniform(matrix), .uniform([], -1...(-0.5)),
                              .uniform([1, 4], 0.5...1)) { try clip($0, $1, $2) },
                 ]),
                 forwardMode: .onGradientCases,
                 gradientTypes: .checked([
                     SizeOneOperands("clip with [1, n], [m, 1] and [1, 1] operands", [[1, 3], [2, 1], [1, 1]]) { try clip($0[0], $0[1], $0[2]) },
                 ]),
                 shapes: .checked([
                     ShapeCase("clip", .matrix) { try clip($0, -1, 1) },
                     ShapeCase("clip to symbolic bounds", [.matrix, .real(-1), .broadcastRow]) { try clip($0[0], $0[1], $0[2]) },
                 ]),
                 native: .checked([.elementwise(.ternary("clip") { try clip($0, $1, $2) })])),
        OpRecord(Composite.self,
                 values: .notApplicable(because: "made only by fusion, of ops whose values the fixtures check one by one"),
                 gradients: .notApplicable(because: .noPullback),
                 forwardMode: .withoutPullbacks([
                     .binary("composite tanh(a * b) + a", .uniform([3, 4]), .uniform([1, 4])) { try tanhOfProductPlusFirst([$0, $1], at: location) },
                 ]),
                 gradientTypes: .notApplicable(because: .noPullback),
                 shapes: .checked([
                     ShapeCase("composite tanh(a * b) + a", .matrix, .broadcastRow) { try tanhOfProductPlusFirst([$0, $1], at: .unknown) },
                 ]),
                 native: .notApplicable(because: "made only by the native backend's fusion: its fusion tests compare the loops with the reference")),
    ]

    /// `tanh(a * b) + a` as one composite node.
    private static func tanhOfProductPlusFirst(_ operands: [Variable], at location: SourceLocation) throws -> Variable {
        let program = try Composite(inputDTypes: [.float64, .float64], operations: [
            .init(op: Multiply(), operands: [0, 1]), .init(op: Tanh(), operands: [2]), .init(op: Add(), operands: [3, 0]),
        ])
        return try program(operands, at: location)
    }
}
