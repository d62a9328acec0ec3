package strict

import (
	"errors"
	"reflect"
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

// level decodes from a JSON string by name (a json.Unmarshaler).
type level int

func (l *level) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"low"`:
		*l = 1
	case `"high"`:
		*l = 2
	default:
		return errors.New("want low or high")
	}
	return nil
}

// colour decodes from text by name (an encoding.TextUnmarshaler).
type colour string

func (c *colour) UnmarshalText(b []byte) error {
	if s := string(b); s == "red" || s == "blue" {
		*c = colour(s)
		return nil
	}
	return errors.New("want red or blue")
}

type rich struct {
	Dt     float64        `json:"dt"`
	Level  level          `json:"level"`
	Colour colour         `json:"colour"`
	Counts map[string]int `json:"counts"`
	Any    any            `json:"any"`
}

// TestDecodeValues: every value as written — floats of any precision,
// custom JSON and text decoders, maps, free-form values — from JSON and
// YAML alike, and each decoder's refusal reported by path.
func TestDecodeValues(t *testing.T) {
	want := rich{Dt: 0.25, Level: 2, Colour: "blue", Counts: map[string]int{"a": 1}, Any: map[string]any{"k": []any{1.0}}}
	for _, text := range []string{
		`{"dt": 0.25, "level": "high", "colour": "blue", "counts": {"a": 1}, "any": {"k": [1]}}`,
		"dt: 0.25\nlevel: high\ncolour: blue\ncounts: {a: 1}\nany: {k: [1]}\n",
	} {
		var d rich
		if err := Decode([]byte(text), &d); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("%q: decoded %#v, want %#v", text, d, want)
		}
	}
	var d rich
	err := Decode([]byte("dt: 0.1\nlevel: middle\ncolour: green\ncounts: {a: x}\n"), &d)
	for _, path := range []string{"level", "colour", "counts"} {
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name %s", err, path)
		}
	}
	// A document with a non-string key and a bad value: both reported.
	err = Decode([]byte("1: 2\ndt: fast\n"), &d)
	if err == nil || !strings.Contains(err.Error(), `dt = "fast"`) || !strings.Contains(err.Error(), "map keys must be strings") {
		t.Errorf("mixed keys: %v, want both problems", err)
	}
}
