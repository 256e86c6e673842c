"""The desktop launcher (desktop/) in its window under Xvfb, unpackaged and as the single executable."""
