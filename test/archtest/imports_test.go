// Package archtest enforces kmipd's dependency rule: domain imports no other
// project layer; ports import only domain; app imports domain, ports and
// app/codec, which imports only domain;
// adapters import ports and domain, never app and never another adapter tree;
// only cmd (and the tests in test/) import everything.
package archtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/kmipd/kmipd"

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// layer returns the layer of a project package: domain, ports, app,
// app/codec (the wire shapes app decodes and encodes), adapters/<kind> (the
// adapter tree, e.g. adapters/storage), cmd or test.
func layer(path string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	parts := strings.Split(rel, "/")
	if parts[0] == "adapters" && len(parts) > 1 {
		return "adapters/" + parts[1]
	}
	if parts[0] == "app" && len(parts) > 1 && parts[1] == "codec" {
		return "app/codec"
	}
	return parts[0]
}

// allowed reports whether a package of layer from may import a package of layer to.
func allowed(from, to string) bool {
	if from == to {
		return true
	}
	switch {
	case from == "domain":
		return false
	case from == "ports":
		return to == "domain"
	case from == "app":
		return to == "domain" || to == "ports" || to == "app/codec"
	case from == "app/codec":
		return to == "domain"
	case strings.HasPrefix(from, "adapters/"):
		return to == "domain" || to == "ports"
	case from == "cmd", from == "test":
		return true
	}
	return false
}

func violations(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		from := layer(p.ImportPath)
		imports := append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...)
		for _, imp := range imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if to := layer(imp); !allowed(from, to) {
				bad = append(bad, fmt.Sprintf("%s (%s) imports %s (%s)", p.ImportPath, from, imp, to))
			}
		}
	}
	return bad
}

func TestDependencyRule(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error("dependency rule broken: " + v)
	}
}

// TestRuleCatchesViolations proves the checker fails on the imports it forbids.
func TestRuleCatchesViolations(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	bad := []pkg{
		{ImportPath: m("domain"), Imports: []string{m("ports")}},
		{ImportPath: m("ports"), Imports: []string{m("app")}},
		{ImportPath: m("app"), Imports: []string{m("adapters/storage/sqlite")}},
		{ImportPath: m("adapters/storage/sqlite"), Imports: []string{m("app")}},
		{ImportPath: m("adapters/storage/sqlite"), TestImports: []string{m("adapters/transport/ttlv")}},
		{ImportPath: m("domain/kmip"), XTestImports: []string{m("cmd/kmipd")}},
		{ImportPath: m("app/codec"), Imports: []string{m("ports")}},
		{ImportPath: m("app/codec"), Imports: []string{m("app")}},
	}
	if got := violations(bad); len(got) != len(bad) {
		t.Fatalf("caught %d of %d violations: %v", len(got), len(bad), got)
	}
	good := []pkg{
		{ImportPath: m("domain"), Imports: []string{m("domain/kmip"), "time"}},
		{ImportPath: m("ports"), Imports: []string{m("domain")}},
		{ImportPath: m("app"), Imports: []string{m("ports"), m("domain/kmip"), m("app/codec")}},
		{ImportPath: m("app/codec"), Imports: []string{m("domain"), m("domain/kmip")}},
		{ImportPath: m("adapters/storage/bolt"), Imports: []string{m("adapters/storage/record"), m("ports")}},
		{ImportPath: m("cmd/kmipd"), Imports: []string{m("app"), m("adapters/storage/sqlite")}},
	}
	if got := violations(good); len(got) != 0 {
		t.Fatalf("false violations: %v", got)
	}
}
