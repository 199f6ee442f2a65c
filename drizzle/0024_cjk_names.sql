-- Hand-written: Chinese, Japanese and Korean names (issue 19, point 12).
--
-- 1. Display names: a name in CJK script puts the family name first, without a space (张伟, not 伟 张);
--    a name of a country where the family name comes first (CN TW HK MO JP KR KP) in Latin letters keeps
--    a space (Zhang Wei). The same rule as deriveDisplayName in src/lib/normalize.ts.
-- 2. Search: CJK is written without spaces between words, so "张伟" or "建国" is not a word of "高建国"
--    and pg_trgm does not split it either. The words of a name (customer_search_words, 0020) now also
--    hold the character unigrams and bigrams of its CJK part; the search looks a typed CJK term up by its
--    bigrams (all must be there) through the same primary key index (word, customer_id) INCLUDE
--    (display_name): an index-only lookup on PostgreSQL and PGlite alike. Names without CJK get the same
--    words as before.

-- CJK letters: Hiragana, Katakana, CJK ideographs (with extension A, compatibility ideographs and the
-- supplementary planes), Hangul syllables and jamo.
CREATE OR REPLACE FUNCTION c360_name_words(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT t), '{}') FROM (
    SELECT w AS t FROM regexp_split_to_table(lower(coalesce(name, '')), '[[:space:]''.,/-]+') w WHERE w <> ''
    UNION ALL
    SELECT substr(g.word, i, k) FROM (
        SELECT w AS word FROM regexp_split_to_table(
          regexp_replace(lower(coalesce(name, '')), '[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]+', ' ', 'g'), ' ') w
        WHERE w <> '' AND name ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]') g
      CROSS JOIN generate_series(1, length(g.word)) i CROSS JOIN (VALUES (1), (2)) k(k)
      WHERE i + k - 1 <= length(g.word)
  ) x
$$;
--> statement-breakpoint
UPDATE customers SET display_name = CASE
    WHEN (first_name IS NULL OR first_name ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]')
     AND (last_name IS NULL OR last_name ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]')
      THEN coalesce(last_name, '') || coalesce(first_name, '')
    ELSE concat_ws(' ', last_name, first_name) END
  WHERE (first_name IS NOT NULL OR last_name IS NOT NULL)
    AND (country IN ('CN', 'TW', 'HK', 'MO', 'JP', 'KR', 'KP')
      OR concat(first_name, last_name) ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]');
--> statement-breakpoint
-- Names whose display did not change above (an email as display name, say) but hold CJK: their n-grams.
SELECT c360_refresh_search_words(ARRAY(SELECT id FROM customers
  WHERE display_name ~ '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\U00020000-\U0003134f]' ORDER BY id), '{}');
