/// Rules of the stabilize phase.
let stabilizeRules: [Rewrite] = []
