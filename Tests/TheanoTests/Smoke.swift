import Testing
@testable import Theano
@Test func smoke() {}
