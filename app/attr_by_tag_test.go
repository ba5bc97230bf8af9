package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// The app code names standard attributes by tag (obj.AttrOf(kmip.TagName),
// kmip.TagName.SpecName()), never by a string literal a typo would still
// compile; only custom and vendor attributes ("x-…", "y-…") go by name.
func TestStandardAttributesAddressedByTag(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			bl, ok := n.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return true
			}
			lit, _ := strconv.Unquote(bl.Value)
			if _, std := domain.AttrRuleFor(lit); std && !domain.IsVendorOrCustomAttr(lit) {
				tag, _ := kmip.TagBySpecName(lit)
				t.Errorf("%s: attribute %q as a string literal; use kmip.Tag%s", fs.Position(bl.Pos()), lit, tag)
			}
			return true
		})
	}
}
