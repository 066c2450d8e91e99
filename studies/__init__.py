"""The studies of this project, one package per folder (``studies/<study>/``).

The run harness imports a study's folder as a package by its path
(:func:`replikit.run.harness.import_study`), so study names that are not valid module
names (``my-study``) work as well; this file lets tests and benchmarks import the shipped
studies as ``studies.<study>`` from the repository root.
"""
