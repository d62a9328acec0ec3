package gle_test

import (
	"errors"
	"math"
	"testing"

	"github.com/gle-go/gle"
)

// TestLoopGainsOfNaNWeights: weights that are not finite are an error,
// not an eigenvalue iteration that never ends.
func TestLoopGainsOfNaNWeights(t *testing.T) {
	n, err := gle.NewNetwork(recurrentSpec(false))
	if err != nil {
		t.Fatal(err)
	}
	n.Projs[1].W[3] = math.NaN()
	if _, err := gle.LoopGains(n); !errors.Is(err, gle.ErrDiverged) {
		t.Errorf("LoopGains with a NaN weight: %v", err)
	}
}
