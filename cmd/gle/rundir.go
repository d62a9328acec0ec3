package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gle-go/gle/internal/atomicfile"
)

// runInfo describes how a run was made, for its run directory.
type runInfo struct {
	Command   string `yaml:"command" json:"command"`
	Started   string `yaml:"started" json:"started"`
	GoVersion string `yaml:"go_version" json:"go_version"`
	Revision  string `yaml:"git_revision" json:"git_revision"`
	Config    any    `yaml:"config" json:"config"`
}

// writeRunConfig writes DIR/config.yaml: the command line, the resolved
// configuration, the Go version and the git revision of the source.
func writeRunConfig(dir string, config any) error {
	info := runInfo{
		Command: strings.Join(os.Args, " "), Started: time.Now().UTC().Format(time.RFC3339),
		GoVersion: runtime.Version(), Revision: gitRevision(), Config: config,
	}
	b, err := yaml.Marshal(info)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "config.yaml"), b)
}

// writeSummary writes DIR/summary.json.
func writeSummary(dir string, summary any) error {
	b, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "summary.json"), append(b, '\n'))
}

// gitRevision returns the commit of the working directory's checkout
// (with "+dirty" for uncommitted changes), or "unknown".
func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "+dirty"
	}
	return rev
}
