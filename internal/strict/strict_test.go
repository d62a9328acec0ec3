package strict

import (
	"errors"
	"strings"
	"testing"

	"github.com/gle-go/gle/internal/errs"
)

type layer struct {
	In   int       `json:"in"`
	TauN []float64 `json:"tau_m"`
	Name string    `json:"name,omitempty"`
}

type doc struct {
	Dt     float64  `json:"dt"`
	Layers []layer  `json:"layers"`
	Beta   *float64 `json:"beta,omitempty"`
	Any    any      `json:"any,omitempty"`
}

func TestDecodeJSONAndYAML(t *testing.T) {
	for _, text := range []string{
		`{"dt": 0.1, "beta": 2, "layers": [{"in": 3, "tau_m": [1, 2]}], "any": {"k": [1]}}`,
		"dt: 0.1\nbeta: 2\nlayers:\n  - {in: 3, tau_m: [1, 2]}\nany: {k: [1]}\n",
	} {
		var d doc
		if err := Decode([]byte(text), &d); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if d.Dt != 0.1 || *d.Beta != 2 || d.Layers[0].In != 3 || len(d.Layers[0].TauN) != 2 {
			t.Errorf("decoded %+v", d)
		}
	}
}

// TestEveryProblemWithItsPath: keys are case-sensitive, unknown keys
// name their full path, type errors name theirs, and all problems of a
// document are reported at once.
func TestEveryProblemWithItsPath(t *testing.T) {
	text := "dt: fast\nDT: 0.1\nlayers:\n  - {in: 3}\n  - {in: x, tau_n: 1}\n"
	var d doc
	err := Decode([]byte(text), &d)
	for _, want := range []string{"dt = \"fast\"", "DT: unknown field", "layers[1].in", "layers[1].tau_n: unknown field"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %q", err, want)
		}
	}
	if !errors.Is(err, errs.ErrUnknownName) || !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("error %v does not wrap both sentinels", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, text := range map[string]string{
		"empty":       "",
		"truncated":   `{"dt": 0.1, "lay`,
		"trailing":    `{"dt": 0.1} {}`,
		"YAML NaN":    "dt: .nan\n",
		"YAML Inf":    "layers: [{in: 1, tau_m: [.inf]}]\n",
		"int key":     "1: 2\n",
		"not object":  "[1, 2]\n",
		"YAML syntax": "dt: [0.1\n",
	} {
		var d doc
		if err := Decode([]byte(text), &d); err == nil {
			t.Errorf("%s: %q accepted", name, text)
		}
	}
}
