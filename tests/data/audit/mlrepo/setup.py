from setuptools import setup

setup(
    name="mlrepo",
    install_requires=[
        "torch>=1.6",
        "numpy>=1.19",
    ],
)
