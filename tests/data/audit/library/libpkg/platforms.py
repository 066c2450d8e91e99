"""Look-alikes of the audit's former false alarms (fixture for replikit's audit tests)."""
import os
import re

import requests
import six
import torch as th

JS_URL = f"https://unpkg.com/@scope/inline@{six.__name__}/dist/inline.js"
APP_PATTERN = re.compile(r"/?(.+?)(/|$)")
NOTEBOOK_HELP = "upload your data to /kaggle/input/mydata first"


def on_kaggle():
    return os.path.exists("/kaggle/input")


def on_azure():
    marker = "/mnt/azmnt/.nbvm"
    return os.path.exists(marker) and os.path.isfile(marker)


def ping(url):
    requests.get(url)
    return True


def items(mapping):
    return list(six.iteritems(mapping))


def pairs(mapping):
    try:
        return mapping.iteritems()
    except AttributeError:
        return mapping.items()


def seeded(device):
    return device.type == th.device("cuda").type
