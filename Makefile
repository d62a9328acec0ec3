# make python: install the Debian packages it needs (make deps), build the
# Go engine as a shared library and install the Python package into a
# virtual environment (.venv) that sees Debian's NumPy.
PYTHON ?= /usr/bin/python3  # Debian's Python, which sees python3-numpy
VENV ?= .venv

.PHONY: deps python python-test notebook
# deps: the Debian packages (NumPy, pytest, Matplotlib, venv; espeak-ng and
# sox for the speech corpus) when missing.
deps:
	bash scripts/install-deps.sh

python: deps
	go build -buildmode=c-shared -o python/gle/libgle.so ./cmd/libgle
	rm -f python/gle/libgle.h
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install --quiet --no-build-isolation --no-index --no-deps ./python

python-test: python
	cd python && ../$(VENV)/bin/python -m pytest -q tests

# make notebook: re-run python/examples/lagline.ipynb in place (needs
# Debian's jupyter-nbconvert and python3-ipykernel).
notebook: python
	$(VENV)/bin/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (gle)" >/dev/null
	cd python/examples && JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter ../../$(VENV)/bin/python -m jupyter nbconvert --to notebook --execute --inplace lagline.ipynb
