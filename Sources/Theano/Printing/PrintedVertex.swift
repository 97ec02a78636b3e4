import TheanoCore

extension Variable {
    /// What pictures and printouts show this variable as: the node computing it (every
    /// output of a node is the same vertex), or the variable itself when it is a leaf.
    var printedVertex: ObjectIdentifier { ObjectIdentifier(owner.map { $0 as AnyObject } ?? self) }
}
