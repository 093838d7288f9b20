-- The words search indexes and matches: lower case, accents stripped, split on anything that is not a
-- letter or a digit, English stopwords dropped, then English-stemmed (Snowball, from the fts extension).
-- The index and every query go through this one macro, so they cannot disagree on what a word is.
create or replace macro search_stopwords() as [
    'a', 'about', 'after', 'all', 'also', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'because', 'been',
    'before', 'being', 'between', 'both', 'but', 'by', 'can', 'could', 'did', 'do', 'does', 'doing', 'down',
    'during', 'each', 'few', 'for', 'from', 'further', 'had', 'has', 'have', 'having', 'he', 'her', 'here',
    'hers', 'herself', 'him', 'himself', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'itself',
    'just', 'me', 'more', 'most', 'my', 'myself', 'no', 'nor', 'not', 'now', 'of', 'off', 'on', 'once',
    'only', 'or', 'other', 'our', 'ours', 'ourselves', 'out', 'over', 'own', 's', 'same', 'she', 'should',
    'so', 'some', 'such', 't', 'than', 'that', 'the', 'their', 'theirs', 'them', 'themselves', 'then',
    'there', 'these', 'they', 'this', 'those', 'through', 'to', 'too', 'under', 'until', 'up', 'very', 'was',
    'we', 'were', 'what', 'when', 'where', 'which', 'while', 'who', 'whom', 'why', 'will', 'with', 'would',
    'you', 'your', 'yours', 'yourself', 'yourselves'
];

create or replace macro search_words(s) as list_transform(
    list_filter(
        regexp_split_to_array(lower(strip_accents(coalesce(s, ''))), '[^\p{L}\p{N}]+'),
        w -> w <> '' and not list_contains(search_stopwords(), w)
    ),
    w -> stem(w, 'english')
);

-- The index's key for a word of a field: the first 64 bits of its MD5, stable across DuckDB versions
-- (hash() is not). A query joins the index on this integer, which DuckDB filters in the scan 10-40 times
-- faster than the (field, term) strings (README, Performance: search).
create or replace macro search_key(field, term) as md5_number_upper(field || ' ' || term);
