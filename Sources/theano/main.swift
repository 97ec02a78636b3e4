print("theano")
