/// Rules of the specialize phase.
let specializeRules: [Rewrite] = []
