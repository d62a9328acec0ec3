package experiments

import (
	"fmt"
	"strconv"
	"strings"
)

// floatsFlag is a flag holding a comma-separated list of numbers, each
// accepted by ok (want says what ok wants).
// intsFlag reads a comma-separated list of positive integers.
type intsFlag struct{ dst *[]int }

func (f intsFlag) String() string {
	if f.dst == nil {
		return ""
	}
	s := make([]string, len(*f.dst))
	for i, x := range *f.dst {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (f intsFlag) Set(list string) error {
	var v []int
	for _, part := range strings.Split(list, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || x <= 0 {
			return fmt.Errorf("%q is not a positive integer", part)
		}
		v = append(v, x)
	}
	*f.dst = v
	return nil
}

type floatsFlag struct {
	dst  *[]float64
	ok   func(float64) bool
	want string
}

func (f floatsFlag) String() string {
	if f.dst == nil {
		return ""
	}
	s := make([]string, len(*f.dst))
	for i, x := range *f.dst {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func (f floatsFlag) Set(list string) error {
	var v []float64
	for _, part := range strings.Split(list, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !f.ok(x) {
			return fmt.Errorf("%q is not %s", part, f.want)
		}
		v = append(v, x)
	}
	*f.dst = v
	return nil
}
