# Valid Python 3 syntax with Python 2 semantics (fixture for replikit's audit tests).
def normalise(rows, out):
    map(out.append, rows)
    for key, value in {}.iteritems():
        out.append(key)
    return [i for i in xrange(3)]
