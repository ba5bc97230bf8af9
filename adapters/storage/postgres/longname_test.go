package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// An attribute name far longer than a B-tree entry may be (about 2.7 kB in
// PostgreSQL) is stored, indexed and found like any other.
func TestLongAttributeName(t *testing.T) {
	s := openDSN(t, pgtest.NewDatabase(t), postgres.Options{})
	ctx := context.Background()
	// Random letters: PostgreSQL compresses index entries, and a repeated
	// letter would fit.
	b := make([]byte, 10_000)
	rand.Read(b)
	long := "x-" + base64.RawURLEncoding.EncodeToString(b)
	o := storetest.Sample("long")
	o.SetAttr(long, kmip.Text(kmip.TagAttributeValue, "v"))
	if err := s.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	other := storetest.Sample("other")
	other.SetAttr(long+"m", kmip.Text(kmip.TagAttributeValue, "v"))
	if err := s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: long, Key: "t:v"}}})
	if err != nil || len(ids) != 1 || ids[0] != "long" {
		t.Fatalf("Locate by the long name: %v, %v; want [long]", ids, err)
	}
	if err := s.Update(ctx, "long", func(o *domain.Object) error { o.DeleteAttr(long); return nil }); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: long, Key: "t:v"}}}); err != nil || len(ids) != 0 {
		t.Fatalf("Locate after the attribute was deleted: %v, %v", ids, err)
	}
}
