// `import Theano` is the whole library: each layer below is re-exported (see Package.swift
// for the order in which they see each other).
@_exported import TheanoCore
@_exported import TheanoOps
@_exported import TheanoOptimizer
@_exported import TheanoAutodiff
@_exported import TheanoNative
@_exported import TheanoLoops
