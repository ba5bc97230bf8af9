package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kmipd/kmipd/ports"
)

var _ ports.UsedIdentifiers = (*Store)(nil)

// UsedIDs implements ports.UsedIdentifiers.
func (s *Store) UsedIDs(ctx context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := s.read(ctx, func() error {
		rows, err := s.rdb.QueryContext(ctx, `SELECT id FROM used_ids WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.translate(err)
	}
	return ids, nil
}

// MarkUsed implements ports.UsedIdentifiers in one write transaction.
func (s *Store) MarkUsed(ctx context.Context, ids []string) error {
	return s.submit(ctx, func(tx *sql.Tx) error {
		// Every check before any write: a refused call writes nothing.
		for _, id := range ids {
			var one int
			err := tx.QueryRow(`SELECT 1 FROM objects WHERE id = ?`, id).Scan(&one)
			if err == nil {
				return fmt.Errorf("sqlite store: identifier %q belongs to an object: %w", id, ports.ErrExists)
			}
			if err != sql.ErrNoRows {
				return s.translate(err)
			}
		}
		for _, id := range ids {
			if _, err := s.exec(tx, `INSERT OR IGNORE INTO used_ids (id) VALUES (?)`, id); err != nil {
				return s.translate(err)
			}
		}
		return nil
	})
}
