package policy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

var (
	cert    = uint32(kmip.ObjectTypeCertificate)
	sym     = uint32(kmip.ObjectTypeSymmetricKey)
	get     = uint32(kmip.OperationGet)
	destroy = uint32(kmip.OperationDestroy)
	locate  = uint32(kmip.OperationLocate)
	check   = uint32(kmip.OperationCheck)
)

// examplePolicy is the seed's example (pykmip-server "Policy Files"), with
// preset and groups in one policy.
const examplePolicy = `{
    "example": {
        "preset": {
            "CERTIFICATE": {
                "LOCATE": "ALLOW_ALL",
                "CHECK":  "ALLOW_ALL",
                "DESTROY": "DISALLOW_ALL"
            }
        },
        "groups": {
            "group_A": {
                "CERTIFICATE": {
                    "GET": "ALLOW_ALL",
                    "DESTROY": "ALLOW_ALL"
                }
            },
            "group_B": {
                "CERTIFICATE": {
                    "GET": "ALLOW_ALL",
                    "DESTROY": "DISALLOW_ALL"
                }
            }
        }
    }
}`

func TestParseSeedExample(t *testing.T) {
	ps, err := Parse([]byte(examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	p := ps["example"]
	if p == nil || p.Name != "example" || len(ps) != 1 {
		t.Fatalf("policies = %v", ps)
	}
	if p.Preset[cert][locate] != domain.AllowAll || p.Preset[cert][check] != domain.AllowAll || p.Preset[cert][destroy] != domain.DisallowAll {
		t.Errorf("preset = %v", p.Preset)
	}
	if p.Groups["group_A"][cert][destroy] != domain.AllowAll || p.Groups["group_B"][cert][get] != domain.AllowAll {
		t.Errorf("groups = %v", p.Groups)
	}
	a := domain.Principal{Name: "u", Groups: []string{"group_A"}, HasGroupInfo: true}
	b := domain.Principal{Name: "u", Groups: []string{"group_B"}, HasGroupInfo: true}
	if p.Allowed(a, "owner", cert, destroy) != nil || p.Allowed(b, "owner", cert, destroy) == nil {
		t.Error("group_A destroys certificates, group_B does not")
	}
	if p.Allowed(domain.Principal{Name: "u"}, "owner", cert, locate) != nil {
		t.Error("without group information the preset applies")
	}
}

func TestParseFormats(t *testing.T) {
	// Several policies in one file, one preset-only and one groups-only.
	ps, err := Parse([]byte(`{
		"example_1": {"preset": {"CERTIFICATE": {"DESTROY": "DISALLOW_ALL"}}},
		"example_2": {"groups": {"group_A": {"CERTIFICATE": {"DESTROY": "ALLOW_ALL"}}}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps["example_1"].Groups != nil || ps["example_2"].Preset != nil {
		t.Fatalf("policies = %+v", ps)
	}
	// PyKMIP's legacy format: object types directly under the name are the preset.
	ps, err = Parse([]byte(`{"legacy": {"SYMMETRIC_KEY": {"GET": "ALLOW_OWNER", "REKEY_KEY_PAIR": "ALLOW_ALL"},
		"OPAQUE_DATA": {"SET_ATTRIBUTE": "ALLOW_ALL"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	l := ps["legacy"]
	if l.Preset[sym][get] != domain.AllowOwner || l.Preset[sym][uint32(kmip.OperationReKeyKeyPair)] != domain.AllowAll ||
		l.Preset[uint32(kmip.ObjectTypeOpaqueObject)][uint32(kmip.OperationSetAttribute)] != domain.AllowAll || l.Groups != nil {
		t.Errorf("legacy = %+v", l)
	}
	// An empty policy is ignored, as PyKMIP does.
	ps, err = Parse([]byte(`{"empty": {}, "x": {"preset": {}}}`))
	if err != nil || len(ps) != 1 || ps["x"] == nil {
		t.Errorf("empty policies: %v %v", ps, err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":              `{"a": `,
		"not an object":         `[1]`,
		"policy not object":     `{"a": "ALLOW_ALL"}`,
		"invalid section":       `{"a": {"presets": {}}}`,
		"mixed formats":         `{"a": {"preset": {}, "CERTIFICATE": {"GET": "ALLOW_ALL"}}}`,
		"unknown object type":   `{"a": {"preset": {"KEY": {"GET": "ALLOW_ALL"}}}}`,
		"unknown operation":     `{"a": {"preset": {"CERTIFICATE": {"FETCH": "ALLOW_ALL"}}}}`,
		"unknown permission":    `{"a": {"preset": {"CERTIFICATE": {"GET": "ALLOW"}}}}`,
		"lower-case names":      `{"a": {"preset": {"certificate": {"get": "allow_all"}}}}`,
		"bad group rules":       `{"a": {"groups": {"g": {"CERTIFICATE": {"GET": 1}}}}}`,
		"groups not an object":  `{"a": {"groups": []}}`,
		"legacy unknown op":     `{"a": {"CERTIFICATE": {"GETT": "ALLOW_ALL"}}}`,
		"one bad policy of two": `{"good": {"preset": {}}, "bad": {"x": {}}}`,
	} {
		if ps, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted: %v", name, ps)
		}
	}
}

func TestGrantsSpellings(t *testing.T) {
	ps, err := Parse([]byte(examplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, g := range Grants(ps["example"]) {
		lines = append(lines, g.Group+" "+g.ObjectType+" "+g.Operation+" "+g.Permission.String())
	}
	got := strings.Join(lines, "\n")
	want := strings.Join([]string{
		" CERTIFICATE CHECK ALLOW_ALL", " CERTIFICATE DESTROY DISALLOW_ALL", " CERTIFICATE LOCATE ALLOW_ALL",
		"group_A CERTIFICATE DESTROY ALLOW_ALL", "group_A CERTIFICATE GET ALLOW_ALL",
		"group_B CERTIFICATE DESTROY DISALLOW_ALL", "group_B CERTIFICATE GET ALLOW_ALL",
	}, "\n")
	if got != want {
		t.Errorf("grants:\n%s\nwant:\n%s", got, want)
	}
	for name, v := range objectTypeNames {
		if ObjectTypeName(uint32(v)) != name {
			t.Errorf("ObjectTypeName(%d) = %q", v, ObjectTypeName(uint32(v)))
		}
	}
	for name, v := range operationNames {
		if OperationName(uint32(v)) != name {
			t.Errorf("OperationName(%d) = %q", v, OperationName(uint32(v)))
		}
	}
}

// testDir is a policy directory and a Dir over it, logging into a buffer.
type testDir struct {
	t    *testing.T
	path string
	d    *Dir
	log  *bytes.Buffer
}

func newTestDir(t *testing.T, files map[string]string) *testDir {
	t.Helper()
	td := &testDir{t: t, path: t.TempDir(), log: &bytes.Buffer{}}
	for name, body := range files {
		td.write(name, body)
	}
	d, err := Open(td.path, Options{Log: zerolog.New(td.log)})
	if err != nil {
		t.Fatal(err)
	}
	td.d = d
	return td
}

func (td *testDir) write(name, body string) {
	td.t.Helper()
	if err := os.WriteFile(filepath.Join(td.path, name), []byte(body), 0o600); err != nil {
		td.t.Fatal(err)
	}
}

func (td *testDir) remove(name string) {
	td.t.Helper()
	if err := os.Remove(filepath.Join(td.path, name)); err != nil {
		td.t.Fatal(err)
	}
}

// perm returns what policy name grants a client without group information
// for Get on certificates, or -1 when there is no such policy.
func (td *testDir) perm(name string) domain.Permission {
	p, ok := td.d.Policy(context.Background(), name)
	if !ok {
		return -1
	}
	return p.Permission(domain.Principal{Name: "u"}, cert, get)
}

func rule(name, perm string) string {
	return `"` + name + `": {"preset": {"CERTIFICATE": {"GET": "` + perm + `"}}}`
}

func TestDirAddChangeRemove(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p1", "ALLOW_ALL") + `}`, "notes.txt": `{` + rule("txt", "ALLOW_ALL") + `}`})
	if td.perm("p1") != domain.AllowAll {
		t.Fatal("p1 not loaded at start")
	}
	if td.perm("txt") != -1 {
		t.Error("only *.json files hold policies")
	}
	// Adding a file.
	td.write("b.json", `{`+rule("p2", "ALLOW_OWNER")+`}`)
	td.d.Scan()
	if td.perm("p2") != domain.AllowOwner {
		t.Error("added file not loaded")
	}
	// Changing a file, adding and removing policies within it.
	td.write("a.json", `{`+rule("p1", "DISALLOW_ALL")+`,`+rule("p3", "ALLOW_ALL")+`}`)
	td.d.Scan()
	if td.perm("p1") != domain.DisallowAll || td.perm("p3") != domain.AllowAll {
		t.Error("changed file not reloaded")
	}
	td.write("a.json", `{`+rule("p3", "ALLOW_OWNER")+`}`)
	td.d.Scan()
	if td.perm("p1") != -1 || td.perm("p3") != domain.AllowOwner {
		t.Error("policy removed from a file still in force")
	}
	// Removing a file.
	td.remove("b.json")
	td.d.Scan()
	if td.perm("p2") != -1 {
		t.Error("policy of a removed file still in force")
	}
	if got := strings.Join(td.d.Names(), ","); got != "p3" {
		t.Errorf("Names = %s", got)
	}
}

func TestDirCollisionCachesAndRestores(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("shared", "ALLOW_OWNER") + `}`})
	td.write("b.json", `{`+rule("shared", "ALLOW_ALL")+`}`)
	td.d.Scan()
	if td.perm("shared") != domain.AllowAll {
		t.Fatal("the newer definition must be in force")
	}
	if !strings.Contains(td.log.String(), "overwrites an existing policy") {
		t.Error("collision not logged")
	}
	// Fixing the collision by renaming the policy in b.json restores a.json's.
	td.write("b.json", `{`+rule("renamed", "ALLOW_ALL")+`}`)
	td.d.Scan()
	if td.perm("shared") != domain.AllowOwner || td.perm("renamed") != domain.AllowAll {
		t.Error("older policy not restored when the collision was fixed")
	}
	// Collide again, then fix it by removing the newer file.
	td.write("c.json", `{`+rule("shared", "DISALLOW_ALL")+`}`)
	td.d.Scan()
	if td.perm("shared") != domain.DisallowAll {
		t.Fatal("newest definition not in force")
	}
	td.remove("c.json")
	td.d.Scan()
	if td.perm("shared") != domain.AllowOwner {
		t.Error("older policy not restored when the newer file was removed")
	}
	// Removing the older file while it is shadowed keeps the newer one.
	td.write("c.json", `{`+rule("shared", "ALLOW_ALL")+`}`)
	td.d.Scan()
	td.remove("a.json")
	td.d.Scan()
	if td.perm("shared") != domain.AllowAll {
		t.Error("removing a shadowed definition changed the policy in force")
	}
	td.remove("c.json")
	td.d.Scan()
	if td.perm("shared") != -1 {
		t.Error("a policy whose every definition is gone is still in force")
	}
}

func TestDirMalformedKeepsLastGood(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p", "ALLOW_ALL") + `}`, "bad.json": `{"x": `})
	if td.perm("p") != domain.AllowAll {
		t.Fatal("a malformed file must not prevent the others from loading")
	}
	if !strings.Contains(td.log.String(), "bad.json") {
		t.Error("malformed file not logged")
	}
	td.write("a.json", `{`+rule("p", "ALLOW_ALL")+`, "q": {"preset": {"NOPE": {}}}}`)
	td.d.Scan()
	if td.perm("p") != domain.AllowAll {
		t.Error("the last good policies of a file that became malformed must stay in force")
	}
	td.write("a.json", `{`+rule("p", "ALLOW_OWNER")+`}`)
	td.d.Scan()
	if td.perm("p") != domain.AllowOwner {
		t.Error("the corrected file was not loaded")
	}
}

func TestDirReservedCannotBeRedefined(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("default", "ALLOW_ALL") + `,` + rule("public", "ALLOW_ALL") + `,` + rule("mine", "ALLOW_ALL") + `}`})
	ctx := context.Background()
	def, _ := td.d.Policy(ctx, "default")
	if def.Permission(domain.Principal{Name: "u"}, sym, get) != domain.AllowOwner ||
		def.Permission(domain.Principal{Name: "u"}, cert, get) != domain.AllowAll {
		t.Error("default policy redefined by a file")
	}
	pub, _ := td.d.Policy(ctx, "public")
	if pub.Permission(domain.Principal{Name: "u"}, cert, get) != domain.DisallowAll {
		t.Error("public policy redefined by a file")
	}
	if td.perm("mine") != domain.AllowAll {
		t.Error("the file's other policies must load")
	}
	if !strings.Contains(td.log.String(), "reserved policy") {
		t.Error("thrown-out reserved policy not logged")
	}
}

// TestDirRunPicksUpChanges runs the poller and waits (bounded) for a change
// written while it runs to take effect.
func TestDirRunPicksUpChanges(t *testing.T) {
	td := newTestDir(t, nil)
	td.d.interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { td.d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	td.write("live.json", `{`+rule("live", "ALLOW_ALL")+`}`)
	deadline := time.Now().Add(10 * time.Second)
	for td.perm("live") != domain.AllowAll {
		if time.Now().After(deadline) {
			t.Fatal("the poller never loaded the new file")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenRefusesMissingDir(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Error("missing directory accepted")
	}
	f := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(f, []byte("{}"), 0o600)
	if _, err := Open(f, Options{}); err == nil {
		t.Error("a file accepted as policy directory")
	}
}

// TestDirUnreadableFileKeepsPolicies: a file that cannot be read keeps its
// last good policies and is not logged again until it changes.
func TestDirUnreadableFileKeepsPolicies(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p", "ALLOW_ALL") + `}`})
	// A symbolic link to a directory: listed as a file, unreadable as one
	// (even for root, unlike a file without read permission).
	f := filepath.Join(td.path, "a.json")
	td.remove("a.json")
	if err := os.Symlink(t.TempDir(), f); err != nil {
		t.Fatal(err)
	}
	td.d.Scan()
	td.d.Scan()
	if td.perm("p") != domain.AllowAll {
		t.Error("policies of an unreadable file were dropped")
	}
	if n := strings.Count(td.log.String(), "failure loading policy file"); n != 1 {
		t.Errorf("unreadable file logged %d times, want once:\n%s", n, td.log.String())
	}
}
