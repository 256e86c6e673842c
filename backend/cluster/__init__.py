"""Hush as a team's server on a Ray cluster (``hush-serve``): the web app as a Ray Serve ingress, the
model as a deployment of replicas. The only package that imports ``ray``; nothing imports it back, so
the desktop app and ``python -m backend`` never load Ray (an optional extra, ``hush[cluster]``)."""
