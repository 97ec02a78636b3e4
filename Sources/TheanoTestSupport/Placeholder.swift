import Theano
