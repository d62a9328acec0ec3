// Package strict decodes one JSON object or YAML document into a Go value
// the way the project's spec files are read: keys must equal a field's
// json tag exactly (case-sensitive), unknown keys are errors naming their
// full path (layers[1].tau_n), numbers must be finite, and every problem
// of the document is reported at once (errors.Join), each prefixed with
// its path.
//
// Values of types that implement json.Unmarshaler or
// encoding.TextUnmarshaler decode themselves; everything else is walked
// field by field.
package strict

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gle-go/gle/internal/errs"
)

// Decode decodes data (JSON when its first non-blank character is '{',
// YAML otherwise) into dst, a non-nil pointer.
func Decode(data []byte, dst any) error {
	var problems []error
	tree, err := parse(data, &problems)
	if err != nil {
		return err
	}
	decode("", tree, reflect.ValueOf(dst).Elem(), &problems)
	return errors.Join(problems...)
}

// parse returns the document as a tree of map[string]any, []any,
// json.Number, string, bool and nil; values it cannot keep (NaN, ±Inf in
// YAML) are left out and reported in problems, so that the rest decodes.
func parse(data []byte, problems *[]error) (any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty document", errs.ErrInvalid)
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var tree any
		if err := dec.Decode(&tree); err != nil {
			return nil, fmt.Errorf("%w: JSON: %v", errs.ErrInvalid, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: trailing data after the JSON object", errs.ErrInvalid)
		}
		return tree, nil
	}
	var tree any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("%w: YAML: %v", errs.ErrInvalid, err)
	}
	return fromYAML(tree, "", problems)
}

// dropped marks a value fromYAML left out (a problem was reported).
type dropped struct{}

// fromYAML turns a YAML tree into the JSON form of parse. Non-string keys
// and non-finite numbers are reported with their path in problems and
// left out (a key's entry, a list's element), so that the rest of the
// document still decodes and is checked.
func fromYAML(v any, path string, problems *[]error) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if c := fromYAMLKeep(e, join(path, k), problems); c != (dropped{}) {
				m[k] = c
			}
		}
		return m, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				*problems = append(*problems, errs.Field(errs.ErrInvalid, orTop(path), k, "map keys must be strings"))
				continue
			}
			if c := fromYAMLKeep(e, join(path, ks), problems); c != (dropped{}) {
				m[ks] = c
			}
		}
		return m, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			if c := fromYAMLKeep(e, fmt.Sprintf("%s[%d]", path, i), problems); c != (dropped{}) {
				out = append(out, c)
			}
		}
		return out, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			*problems = append(*problems, errs.Field(errs.ErrNonFinite, orTop(path), x, "must be finite"))
			return dropped{}, nil
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	}
	return v, nil
}

// fromYAMLKeep is fromYAML for a value inside a map or list: dropped{}
// when it was left out.
func fromYAMLKeep(v any, path string, problems *[]error) any {
	c, _ := fromYAML(v, path, problems)
	return c
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "(document)"
	}
	return path
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode stores tree into dst (addressable), appending problems.
func decode(path string, tree any, dst reflect.Value, problems *[]error) {
	fail := func(sentinel error, value any, format string, args ...any) {
		*problems = append(*problems, errs.Field(sentinel, orTop(path), value, format, args...))
	}
	t := dst.Type()
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshaler) {
		b, _ := json.Marshal(tree)
		if err := dst.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			fail(errs.ErrInvalid, nil, "%v", err)
		}
		return
	} else if pt.Implements(textUnmarshaler) {
		s, ok := tree.(string)
		if !ok {
			fail(errs.ErrInvalid, describe(tree), "want a name (a string)")
			return
		}
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			var fe *errs.FieldError
			if errors.As(err, &fe) {
				fail(fe.Err, s, "%s", fe.Why)
			} else {
				fail(errs.ErrInvalid, s, "%v", err)
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if tree == nil {
			dst.SetZero()
			return
		}
		v := reflect.New(t.Elem())
		decode(path, tree, v.Elem(), problems)
		dst.Set(v)
	case reflect.Struct:
		m, ok := tree.(map[string]any)
		if !ok {
			fail(errs.ErrInvalid, describe(tree), "want an object")
			return
		}
		fields := structFields(t)
		for _, key := range sortedKeys(m) {
			i, ok := fields[key]
			if !ok {
				*problems = append(*problems, errs.Field(errs.ErrUnknownName, join(path, key), nil, "unknown field (want one of %s)", fieldList(fields)))
				continue
			}
			decode(join(path, key), m[key], dst.Field(i), problems)
		}
	case reflect.Slice:
		if tree == nil {
			dst.SetZero()
			return
		}
		list, ok := tree.([]any)
		if !ok {
			fail(errs.ErrInvalid, describe(tree), "want a list")
			return
		}
		s := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			decode(fmt.Sprintf("%s[%d]", path, i), e, s.Index(i), problems)
		}
		dst.Set(s)
	case reflect.Interface:
		if tree != nil {
			dst.Set(reflect.ValueOf(plain(tree)))
		}
	case reflect.Map:
		b, _ := json.Marshal(tree)
		if err := json.Unmarshal(b, dst.Addr().Interface()); err != nil {
			fail(errs.ErrInvalid, describe(tree), "%v", err)
		}
	default:
		b, _ := json.Marshal(tree)
		if err := json.Unmarshal(b, dst.Addr().Interface()); err != nil {
			fail(errs.ErrInvalid, describe(tree), "want %s", kindName(t))
		}
	}
}

// plain turns json.Number leaves into float64 (for `any` destinations).
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

func fieldList(fields map[string]int) string {
	return strings.Join(sortedKeys(fields), ", ")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func describe(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	}
	return v
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}
