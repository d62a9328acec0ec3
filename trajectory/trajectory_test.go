package trajectory_test

import (
	"path/filepath"
	"testing"

	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/trajectory"
)

// TestReferenceFixtures replays every shared fixture through the public
// API and requires every recorded number to match to 1e-9 relative.
func TestReferenceFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d fixtures, want the 4 shared ones", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := trajectory.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.Replay()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := f.Compare(res)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("output %.3g (%s)  params %.3g (%s)  state %.3g (%s)", rep.Output, rep.OutputAt, rep.Params, rep.ParamsAt, rep.State, rep.StateAt)
			if rep.Max() > 1e-9 {
				t.Errorf("max relative error %.3g > 1e-9", rep.Max())
			}
		})
	}
}
