/// Rules of the shape phase.
let shapeRules: [Rewrite] = []
