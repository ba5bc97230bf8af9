package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// Every shape of Locate query is planned as index scans of kmipd_terms or
// kmipd_objects, never a sequential scan, on a database of a few thousand
// objects with fresh statistics (issue 15.2: Locate pushed down to SQL with
// indexes, no full scans).
func TestLocatePlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 4000
	owners := []string{"alice", "bob", "carol", "dave"}
	var objs []*domain.Object
	for i := range n {
		o := storetest.Sample(fmt.Sprintf("obj-%05d", i))
		o.Owner = owners[i%len(owners)]
		if i%3 == 0 {
			o.State = domain.PreActive
		}
		objs = append(objs, o)
		if len(objs) == 500 {
			if err := s.CreateAll(ctx, objs); err != nil {
				t.Fatal(err)
			}
			objs = nil
		}
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		t.Fatal(err)
	}
	owner := func(o string) domain.IndexTerm { return domain.IndexTerm{Name: domain.IndexOwner, Key: o} }
	name := func(i int) domain.IndexTerm {
		return domain.IndexTerm{Name: "Name", Key: domain.IndexKey(kmip.Struct(kmip.TagName,
			kmip.Text(kmip.TagNameValue, fmt.Sprintf("sample-obj-%05d", i)),
			kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString))))}
	}
	active := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(domain.Active))}
	access := []domain.IndexTerm{owner("alice"), owner("bob")}
	shapes := []struct {
		name  string
		q     ports.LocateQuery
		found int
	}{
		{"all, one page", ports.LocateQuery{Limit: 50}, 50},
		{"all", ports.LocateQuery{}, n},
		{"all after a key, one page", ports.LocateQuery{After: "obj-02000", Limit: 50}, 50},
		{"selective term", ports.LocateQuery{Terms: []domain.IndexTerm{name(7)}}, 1},
		{"selective and broad terms", ports.LocateQuery{Terms: []domain.IndexTerm{owner("dave"), name(7), active}}, 1},
		{"broad terms", ports.LocateQuery{Terms: []domain.IndexTerm{owner("alice"), active}, Limit: 50}, 50},
		{"broad terms, no limit", ports.LocateQuery{Terms: []domain.IndexTerm{owner("alice"), active}}, -1},
		{"access group", ports.LocateQuery{Any: [][]domain.IndexTerm{access}, Limit: 50}, 50},
		{"access group and broad term", ports.LocateQuery{Terms: []domain.IndexTerm{active}, Any: [][]domain.IndexTerm{access}, Limit: 50}, 50},
		{"selective term and access group", ports.LocateQuery{Terms: []domain.IndexTerm{name(8)}, Any: [][]domain.IndexTerm{access}}, 1},
		{"selective term outside the access group", ports.LocateQuery{Terms: []domain.IndexTerm{name(10)}, Any: [][]domain.IndexTerm{access}}, 0},
		{"two groups", ports.LocateQuery{Any: [][]domain.IndexTerm{access, {active, owner("carol")}}, Limit: 20}, 20},
	}
	for _, sh := range shapes {
		query, args, ok := locateSQL(sh.q)
		if !ok {
			t.Fatalf("%s: no query", sh.name)
		}
		rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatalf("%s: EXPLAIN: %v", sh.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") {
			t.Errorf("%s: the plan scans a whole table:\n%s\n%s", sh.name, query, text)
		} else {
			t.Logf("%s:\n%s", sh.name, text)
		}
		ids, err := s.Locate(ctx, sh.q)
		if err != nil {
			t.Fatalf("%s: %v", sh.name, err)
		}
		if sh.found >= 0 && len(ids) != sh.found {
			t.Errorf("%s: %d found, want %d", sh.name, len(ids), sh.found)
		}
	}
}
