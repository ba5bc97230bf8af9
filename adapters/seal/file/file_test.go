package file_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/seal/file"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/sealtest"
)

func TestContract(t *testing.T) {
	dir := t.TempDir()
	sealtest.Run(t, func(t *testing.T, name string) ports.KEK {
		path := filepath.Join(dir, name+".key")
		if _, err := os.Stat(path); os.IsNotExist(err) {
			if err := file.Generate(path); err != nil {
				t.Fatal(err)
			}
		}
		k, err := file.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return k
	})
}

func TestGenerateMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	if err := file.Generate(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if err := file.Generate(path); err == nil {
		t.Fatal("Generate overwrote an existing key file")
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := file.Generate(good); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(good)
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	cases := map[string]struct{ path, want string }{
		"missing":      {filepath.Join(dir, "nope"), "no such file"},
		"group-read":   {write("g", string(body), 0o640), "chmod 600"},
		"world-read":   {write("w", string(body), 0o604), "chmod 600"},
		"not-key-file": {write("x", "hello\n", 0o600), "not a kmipd seal key file"},
		"short-key":    {write("s", "kmipd-seal-kek-v1 abcd\n", 0o600), "damaged"},
		"directory":    {dir, "not a regular file"},
	}
	for name, c := range cases {
		_, err := file.Open(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(strings.TrimPrefix(string(body), "kmipd-seal-kek-v1 "))) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
}
