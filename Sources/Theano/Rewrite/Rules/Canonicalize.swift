/// Rules of the canonicalize phase.
let canonicalizeRules: [Rewrite] = []
