package postgres

import (
	"strconv"
	"strings"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/ports"
)

// sqlBuilder writes a query and collects its parameters as $n.
type sqlBuilder struct {
	strings.Builder
	args []any
}

// param appends v as the next parameter and writes its placeholder.
func (b *sqlBuilder) param(v any) {
	b.args = append(b.args, v)
	b.WriteString("$" + strconv.Itoa(len(b.args)))
}

// termIs writes alias.name = $i AND alias.key = $j.
func (b *sqlBuilder) termIs(alias string, t record.Term) {
	b.WriteString(alias + ".name = ")
	b.param(storedName(t))
	b.WriteString(" AND " + alias + ".key = ")
	b.param([]byte(t.Key))
}

// locateSQL builds Locate's query, or reports false when an empty group
// makes the answer empty. The query reads, in identifier order, the index
// entries of its driver: the most selective term, else the merged entries of
// the first group's terms (a caller's access terms), else the objects
// table's primary key. It checks each candidate against every other term and
// group with primary-key probes of kmipd_terms, written as scalar subqueries
// so that the planner cannot turn them into joins that scan the table. Every
// read is an index scan in identifier order, and the LIMIT stops it.
func locateSQL(q ports.LocateQuery) (string, []any, bool) {
	terms := record.Plan(q.Terms)
	groups := record.PlanAny(q.Any)
	for _, g := range groups {
		if len(g) == 0 {
			return "", nil, false
		}
	}
	var b sqlBuilder
	switch {
	case len(groups) > 0 && (len(terms) == 0 || record.Broad(terms[0])):
		// One ordered index scan per term of the group, merged (Merge
		// Append) and made distinct in order.
		b.WriteString(`SELECT DISTINCT t0.id FROM (`)
		for i, t := range groups[0] {
			if i > 0 {
				b.WriteString(` UNION ALL `)
			}
			b.WriteString(`(SELECT g.id FROM kmipd_terms g WHERE `)
			b.termIs("g", t)
			b.WriteString(` AND g.id > `)
			b.param([]byte(q.After))
			b.WriteString(` ORDER BY g.id)`)
		}
		b.WriteString(`) t0 WHERE true`)
		groups = groups[1:]
	case len(terms) > 0:
		b.WriteString(`SELECT t0.id FROM kmipd_terms t0 WHERE `)
		b.termIs("t0", terms[0])
		b.WriteString(` AND t0.id > `)
		b.param([]byte(q.After))
		terms = terms[1:]
	default:
		b.WriteString(`SELECT t0.id FROM kmipd_objects t0 WHERE t0.id > `)
		b.param([]byte(q.After))
	}
	for _, t := range terms {
		b.WriteString(` AND (SELECT 1 FROM kmipd_terms t WHERE `)
		b.termIs("t", t)
		b.WriteString(` AND t.id = t0.id) IS NOT NULL`)
	}
	for _, g := range groups {
		// COALESCE stops at the first probe that finds an entry.
		b.WriteString(` AND COALESCE(`)
		for i, t := range g {
			if i > 0 {
				b.WriteString(`, `)
			}
			b.WriteString(`(SELECT 1 FROM kmipd_terms t WHERE `)
			b.termIs("t", t)
			b.WriteString(` AND t.id = t0.id)`)
		}
		b.WriteString(`) IS NOT NULL`)
	}
	b.WriteString(` ORDER BY 1`)
	if q.Limit > 0 {
		b.WriteString(` LIMIT `)
		b.param(int64(q.Limit))
	}
	return b.String(), b.args, true
}

// storedName is the form of an index term's name kept in kmipd_terms: the
// name itself, or a digest when it is long (record.TermKey), since a
// B-tree entry must fit in a third of a page and a custom attribute's name
// may be longer. Keys are shortened the same way by record.
func storedName(t record.Term) []byte { return []byte(record.TermKey(t.Name)) }
