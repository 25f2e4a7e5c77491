"""Publishing: stored answers → scoring → frozen releases, their charts and open data.

``model`` is the contract (inputs, method settings, results), ``compute`` the pure "answers → results" function,
``opendata`` the public files of a release, ``charts`` their SVG charts, ``synthetic`` the national demo campaign
with known truth.
"""
