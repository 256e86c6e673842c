"""The recorder page (ui/) in Debian's chromium, driven by Playwright."""
