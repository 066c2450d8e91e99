# A Python 2 training script (fixture for replikit's audit tests).
import random

def load(path):
    try:
        data = open(path).read()
    except IOError, err:
        print "cannot read", path
        return []
    return data.split()

if __name__ == "__main__":
    rows = load("ratings.txt")
    random.shuffle(rows)
    print "rows:", len(rows)
