"""Releases: stored answers → scoring → frozen results (pure core: model, compute, open data, synthetic demo).

``model`` is the contract (inputs, method settings, results), ``compute`` the pure "answers → results" function,
``opendata`` the public files of a release, ``synthetic`` the national demo campaign with known truth.
"""
