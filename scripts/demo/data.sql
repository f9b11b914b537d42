-- MetaHog demo database, data: fills the tables of schema.sql deterministically, in one transaction.
-- Every "random" choice is a hash of a row key and a salt (hashint8extended), never random(), so two loads
-- produce identical rows whatever plan or parallelism Postgres picks. The business runs from 2023-01-01 to
-- 2024-12-31; the web site log covers 2024. Sizes: 1,000 films, 200 actors, 600 customers, ~4,500 copies,
-- ~16,000 rentals and payments, ~100,000 page views.

SET client_min_messages = warning;
-- Temporary tables have no statistics, so the planner overestimates and JIT-compiles for seconds; it is not
-- worth it for queries that run once.
SET jit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '256MB';
BEGIN;

-- Foreign keys are dropped for the load and added back at the end, where each is checked by one join instead
-- of one lookup per inserted row (pg_restore does the same). conparentid = 0 skips the copies on partitions.
CREATE TEMPORARY TABLE deferred_foreign_keys AS
SELECT conrelid::regclass AS tab, conname, pg_get_constraintdef(oid) AS def
  FROM pg_constraint
 WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conparentid = 0;
-- Likewise, plain indexes (not those behind primary keys and unique constraints) are built once at the end,
-- which is faster than updating them row by row.
CREATE TEMPORARY TABLE deferred_indexes AS
SELECT i.indexrelid::regclass AS idx, pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid
 WHERE t.relnamespace = 'public'::regnamespace AND t.relkind IN ('r', 'p') AND NOT t.relispartition
   AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO
$$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT tab, conname FROM deferred_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tab, c.conname);
    END LOOP;
    FOR c IN SELECT idx FROM deferred_indexes LOOP
        EXECUTE format('DROP INDEX %s', c.idx);
    END LOOP;
END
$$;

-- Deterministic pseudo-random helpers; temporary, so nothing of them stays in the database.
-- rnd: uniform in [0, 1) from (key, salt). pick: uniform integer in 1..n. elem: a uniform element of an array.
CREATE FUNCTION pg_temp.rnd(k bigint, salt integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((hashint8extended(k, salt) >> 11) & 9007199254740991)::double precision / 9007199254740992.0;
CREATE FUNCTION pg_temp.pick(k bigint, salt integer, n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 1 + floor(pg_temp.rnd(k, salt) * n)::integer;
CREATE FUNCTION pg_temp.elem(a text[], k bigint, salt integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN a[pg_temp.pick(k, salt, cardinality(a))];
-- An e-mail local part from a name: lower case ASCII, no spaces or apostrophes.
CREATE FUNCTION pg_temp.mailbox(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN translate(lower(name), 'áàâãäåçéèêëíìîïıñóòôõöøúùûüýÿśńłźżćęąšžčř'' ',
                                  'aaaaaaceeeeiiiiinoooooouuuuyysnlzzceaszcr');

-- Rows written by this script carry one fixed last_update instead of now(), so loads are reproducible.
DO
$$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT table_name FROM information_schema.columns
              WHERE table_schema = 'public' AND column_name = 'last_update' LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN last_update SET DEFAULT %L', t, '2025-01-01 00:00:00+00');
    END LOOP;
END
$$;

-- Word lists ---------------------------------------------------------------------------------------------------

CREATE FUNCTION pg_temp.first_names() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Amelia', 'Oliver', 'Sofia', 'Liam', 'Chloe', 'Mateo', 'Aisha', 'Noah', 'Yuki', 'Lucas', 'Priya',
    'Ethan', 'Zoë', 'Hugo', 'Mia', 'Arjun', 'Elena', 'Samuel', 'Fatima', 'Daniel', 'Ingrid', 'Jonas',
    'Leila', 'Marco', 'Nadia', 'Oscar', 'Paula', 'Rafael', 'Sara', 'Tomás', 'Valentina', 'William',
    'Ximena', 'Yusuf', 'Zara', 'Benjamin', 'Camila', 'Diego', 'Emma', 'Felix', 'Grace', 'Henrik',
    'Isabel', 'Jakub', 'Kenji', 'Laura', 'Miguel', 'Nora', 'Omar', 'Petra', 'Quentin', 'Rosa', 'Stefan',
    'Tara', 'Umar', 'Vera', 'Wei', 'Yara', 'Adrian', 'Beatriz', 'Caleb', 'Daria', 'Elif', 'Finn', 'Greta',
    'Hana', 'Ivan', 'Julia', 'Kofi', 'Lena', 'Malik', 'Nina', 'Olga', 'Pedro', 'Rhea', 'Simon', 'Theo',
    'Ursula', 'Victor', 'Wanda'];
CREATE FUNCTION pg_temp.last_names() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Almeida', 'Andersen', 'Baker', 'Banerjee', 'Becker', 'Bianchi', 'Brown', 'Carvalho', 'Chen',
    'Costa', 'Dubois', 'Eriksson', 'Fernandes', 'Fischer', 'García', 'Haddad', 'Hansen', 'Hoffmann', 'Ito',
    'Jansen', 'Johnson', 'Kaur', 'Kim', 'Kowalski', 'Larsen', 'Lefèvre', 'Li', 'Lopes', 'Martin', 'Meyer',
    'Moreau', 'Müller', 'Murphy', 'Nakamura', 'Nguyen', 'Novak', 'Nowak', 'O''Connor', 'Okafor', 'Olsen',
    'Patel', 'Pereira', 'Petrov', 'Quinn', 'Rahman', 'Ramos', 'Rossi', 'Santos', 'Schmidt', 'Silva',
    'Singh', 'Sousa', 'Suzuki', 'Tanaka', 'Taylor', 'Thompson', 'Torres', 'Ueda', 'Van Dijk', 'Vasquez',
    'Wagner', 'Walsh', 'Wang', 'Weber', 'Williams', 'Wilson', 'Wójcik', 'Yamamoto', 'Yilmaz', 'Young',
    'Zhang', 'Zimmermann', 'Abbott', 'Bauer', 'Castillo', 'Delgado', 'Evans', 'Fontaine', 'Gallagher',
    'Herrera'];
CREATE FUNCTION pg_temp.title_adjectives() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Silent', 'Golden', 'Midnight', 'Broken', 'Crimson', 'Hidden', 'Last', 'Electric', 'Frozen', 'Wild',
    'Distant', 'Velvet', 'Iron', 'Hollow', 'Burning', 'Paper', 'Secret', 'Lucky', 'Restless', 'Northern',
    'Savage', 'Gentle', 'Neon', 'Wandering', 'Forgotten', 'Bitter', 'Little', 'Endless', 'Naïve',
    'Scarlet', 'Stolen', 'Sleeping', 'Rising', 'Copper', 'Glass', 'Quiet', 'Lonely', 'Crooked', 'Brave',
    'Faded', 'Hungry', 'Marble', 'Painted', 'Shattered', 'Silver', 'Sudden', 'Twisted', 'Wicked',
    'Winter', 'Borrowed'];
CREATE FUNCTION pg_temp.title_nouns() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Harbor', 'Orchard', 'Empire', 'Lantern', 'Frontier', 'Compass', 'Carnival', 'Echo', 'Tide',
    'Mirror', 'Garden', 'Horizon', 'Engine', 'Kingdom', 'Rhapsody', 'Harvest', 'Summit', 'Voyage',
    'Cathedral', 'Circus', 'Signal', 'Labyrinth', 'Meadow', 'Promise', 'River', 'Sparrow', 'Thunder',
    'Valley', 'Waltz', 'Canyon', 'Café', 'Piñata', 'Smörgåsbord', 'Parade', 'Alibi', 'Ballad', 'Bridge',
    'Comet', 'Desert', 'Fortress', 'Gambit', 'Highway', 'Island', 'Jungle', 'Legacy', 'Monsoon', 'Outpost',
    'Paradox', 'Reckoning', 'Sanctuary'];
CREATE FUNCTION pg_temp.tones() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['bittersweet', 'gripping', 'quiet', 'sprawling', 'witty', 'haunting', 'breezy', 'tense', 'heartfelt',
    'absurd', 'slow-burning', 'rousing', 'gentle', 'darkly comic', 'lyrical', 'frantic', 'tender',
    'brooding', 'playful', 'epic'];
CREATE FUNCTION pg_temp.characters() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['a retired lighthouse keeper', 'two estranged sisters', 'a rookie detective', 'an ambitious chef',
    'a stubborn farmer', 'a washed-up boxer', 'a teenage inventor', 'a grieving widower',
    'a small-town mayor', 'a jazz pianist', 'a disgraced surgeon', 'a pair of con artists',
    'a lonely astronaut', 'a schoolteacher', 'a night-shift nurse', 'a marine biologist',
    'an aging rock band', 'a runaway bride', 'a shy librarian', 'a border guard', 'a chess prodigy',
    'a family of clowns', 'a taxi driver', 'an exiled prince', 'a wildlife photographer', 'a forger',
    'a beekeeper', 'a ferry captain', 'a stand-up comedian', 'a retired spy'];
CREATE FUNCTION pg_temp.actions() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['chasing a lost letter', 'searching for a missing brother', 'planning one last heist',
    'hiding from the mob', 'training for a marathon', 'running a failing bakery',
    'restoring an old cinema', 'solving a cold case', 'escaping a flooded town', 'racing against a storm',
    'rebuilding a wrecked boat', 'learning to dance', 'protecting a stray dog', 'smuggling paintings',
    'coaching a hopeless team', 'decoding strange radio signals', 'caring for an ailing father',
    'surviving a long winter', 'opening a night market', 'crossing a desert on foot',
    'recording a final album', 'guarding a secret recipe', 'mapping an uncharted cave',
    'fixing a broken clock tower', 'winning back an old love'];
CREATE FUNCTION pg_temp.places() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['across the Scottish Highlands', 'in 1970s Naples', 'on a remote island', 'in a snowed-in hotel',
    'along the Mekong', 'in the suburbs of Lyon', 'aboard a night train', 'in a mining town',
    'on the edge of the Sahara', 'in post-war Vienna', 'in a crowded Mumbai market',
    'on a research station in Antarctica', 'in a sleepy fishing village', 'under the streets of Paris',
    'in the Andes', 'in near-future Tokyo', 'on a cross-country road trip', 'in a Brooklyn apartment block',
    'at a failing ski resort', 'in the Australian outback', 'on an abandoned space station',
    'in a Lagos recording studio', 'inside a shopping mall', 'on the Baltic coast',
    'during a heatwave in Seville'];
CREATE FUNCTION pg_temp.studios() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Northwind Pictures', 'Blue Heron Films', 'Copperline Studios', 'Lighthouse Entertainment',
    'Atlas & Finch', 'Meridian Pictures', 'Red Kite Films', 'Stonebridge Media', 'Tall Pines Productions',
    'Sunfield Studios', 'Quarry Lane Films', 'Harbourlight Pictures'];
CREATE FUNCTION pg_temp.streets() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Oak', 'Maple', 'Church', 'Mill', 'Station', 'Harbour', 'King', 'Queen', 'Market', 'Bridge', 'River',
    'Park', 'Garden', 'Castle', 'Victoria', 'Elm', 'Chestnut', 'Willow', 'Cedar', 'Highland', 'Lake',
    'Meadow', 'Orchard', 'Sunset', 'Forest', 'Spring', 'Union', 'Liberty', 'Pioneer', 'Lighthouse',
    'Windmill', 'Quarry', 'Foundry', 'Canal', 'Abbey', 'College', 'Hill', 'Valley', 'Beacon', 'Rose'];
CREATE FUNCTION pg_temp.street_kinds() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Street', 'Avenue', 'Road', 'Lane', 'Boulevard', 'Way', 'Drive', 'Place', 'Terrace', 'Square'];
CREATE FUNCTION pg_temp.districts() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['Central', 'Old Town', 'Riverside', 'Harbourside', 'North End', 'Hillcrest', 'West End', 'Eastgate',
    'University', 'Market', 'Lakeside', 'Southbank', 'Parkview', 'Station', 'Docklands'];
CREATE FUNCTION pg_temp.mail_domains() RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    ARRAY['example.com', 'example.net', 'example.org', 'mail.example.com', 'post.example.net'];

-- Reference data -----------------------------------------------------------------------------------------------

INSERT INTO language (language_id, name, iso_code)
VALUES (1, 'English', 'en'), (2, 'Spanish', 'es'), (3, 'French', 'fr'), (4, 'German', 'de'),
       (5, 'Italian', 'it'), (6, 'Japanese', 'ja'), (7, 'Mandarin', 'zh'), (8, 'Korean', 'ko'),
       (9, 'Hindi', 'hi'), (10, 'Portuguese', 'pt');

INSERT INTO category (category_id, name)
SELECT n, name
  FROM unnest(ARRAY['Action', 'Adventure', 'Animation', 'Comedy', 'Crime', 'Documentary', 'Drama', 'Family',
                    'Fantasy', 'Horror', 'Musical', 'Mystery', 'Romance', 'Science Fiction', 'Thriller',
                    'Western']) WITH ORDINALITY AS t(name, n);

CREATE TEMPORARY TABLE places (country text, iso text, continent text, city text, population integer);
INSERT INTO places
VALUES ('Portugal', 'PT', 'Europe', 'Lisbon', 2870000), ('Portugal', 'PT', 'Europe', 'Porto', 1740000),
       ('Portugal', 'PT', 'Europe', 'Braga', 200000), ('Portugal', 'PT', 'Europe', 'Coimbra', 140000),
       ('Portugal', 'PT', 'Europe', 'Faro', NULL),
       ('Canada', 'CA', 'North America', 'Toronto', 6200000), ('Canada', 'CA', 'North America', 'Montreal', 4300000),
       ('Canada', 'CA', 'North America', 'Vancouver', 2600000), ('Canada', 'CA', 'North America', 'Ottawa', 1400000),
       ('Canada', 'CA', 'North America', 'Calgary', 1500000), ('Canada', 'CA', 'North America', 'Hamilton', 790000),
       ('Australia', 'AU', 'Oceania', 'Melbourne', 5100000), ('Australia', 'AU', 'Oceania', 'Sydney', 5300000),
       ('Australia', 'AU', 'Oceania', 'Brisbane', 2600000), ('Australia', 'AU', 'Oceania', 'Perth', 2200000),
       ('Australia', 'AU', 'Oceania', 'Geelong', 280000),
       ('United States', 'US', 'North America', 'New York', 19500000),
       ('United States', 'US', 'North America', 'Chicago', 9400000),
       ('United States', 'US', 'North America', 'Austin', 2400000),
       ('United States', 'US', 'North America', 'Seattle', 4000000),
       ('United States', 'US', 'North America', 'Denver', 2900000),
       ('United States', 'US', 'North America', 'Portland', 2500000),
       ('United States', 'US', 'North America', 'Atlanta', 6200000),
       ('United Kingdom', 'GB', 'Europe', 'London', 9600000), ('United Kingdom', 'GB', 'Europe', 'Manchester', 2800000),
       ('United Kingdom', 'GB', 'Europe', 'Glasgow', 1000000), ('United Kingdom', 'GB', 'Europe', 'Bristol', 470000),
       ('United Kingdom', 'GB', 'Europe', 'Leeds', 800000),
       ('Ireland', 'IE', 'Europe', 'Dublin', 1450000), ('Ireland', 'IE', 'Europe', 'Cork', 220000),
       ('France', 'FR', 'Europe', 'Paris', 11100000), ('France', 'FR', 'Europe', 'Lyon', 2300000),
       ('France', 'FR', 'Europe', 'Marseille', 1900000), ('France', 'FR', 'Europe', 'Toulouse', 1400000),
       ('Germany', 'DE', 'Europe', 'Berlin', 3800000), ('Germany', 'DE', 'Europe', 'Hamburg', 1900000),
       ('Germany', 'DE', 'Europe', 'Munich', 1500000), ('Germany', 'DE', 'Europe', 'Cologne', 1100000),
       ('Germany', 'DE', 'Europe', 'Leipzig', 600000),
       ('Spain', 'ES', 'Europe', 'Madrid', 6700000), ('Spain', 'ES', 'Europe', 'Barcelona', 5600000),
       ('Spain', 'ES', 'Europe', 'Seville', 1500000), ('Spain', 'ES', 'Europe', 'Valencia', 1600000),
       ('Italy', 'IT', 'Europe', 'Rome', 4300000), ('Italy', 'IT', 'Europe', 'Milan', 3200000),
       ('Italy', 'IT', 'Europe', 'Naples', 3000000), ('Italy', 'IT', 'Europe', 'Turin', 2200000),
       ('Italy', 'IT', 'Europe', 'Bologna', 1000000),
       ('Netherlands', 'NL', 'Europe', 'Amsterdam', 2500000), ('Netherlands', 'NL', 'Europe', 'Rotterdam', 1000000),
       ('Netherlands', 'NL', 'Europe', 'Utrecht', 360000),
       ('Belgium', 'BE', 'Europe', 'Brussels', 2100000), ('Belgium', 'BE', 'Europe', 'Antwerp', 1050000),
       ('Belgium', 'BE', 'Europe', 'Ghent', NULL),
       ('Sweden', 'SE', 'Europe', 'Stockholm', 2400000), ('Sweden', 'SE', 'Europe', 'Gothenburg', 1000000),
       ('Sweden', 'SE', 'Europe', 'Malmö', 740000),
       ('Norway', 'NO', 'Europe', 'Oslo', 1000000), ('Norway', 'NO', 'Europe', 'Bergen', 290000),
       ('Denmark', 'DK', 'Europe', 'Copenhagen', 2100000), ('Denmark', 'DK', 'Europe', 'Aarhus', 360000),
       ('Finland', 'FI', 'Europe', 'Helsinki', 1500000), ('Finland', 'FI', 'Europe', 'Tampere', 400000),
       ('Iceland', 'IS', 'Europe', 'Reykjavík', 240000),
       ('Poland', 'PL', 'Europe', 'Warsaw', 3100000), ('Poland', 'PL', 'Europe', 'Kraków', 780000),
       ('Poland', 'PL', 'Europe', 'Gdańsk', 470000), ('Poland', 'PL', 'Europe', 'Wrocław', 640000),
       ('Czechia', 'CZ', 'Europe', 'Prague', 2700000), ('Czechia', 'CZ', 'Europe', 'Brno', 380000),
       ('Austria', 'AT', 'Europe', 'Vienna', 2900000), ('Austria', 'AT', 'Europe', 'Graz', 290000),
       ('Switzerland', 'CH', 'Europe', 'Zürich', 1400000), ('Switzerland', 'CH', 'Europe', 'Geneva', 600000),
       ('Greece', 'GR', 'Europe', 'Athens', 3600000), ('Greece', 'GR', 'Europe', 'Thessaloniki', 1000000),
       ('Türkiye', 'TR', 'Asia', 'Istanbul', 15500000), ('Türkiye', 'TR', 'Asia', 'Ankara', 5700000),
       ('Türkiye', 'TR', 'Asia', 'İzmir', 4400000),
       ('Japan', 'JP', 'Asia', 'Tokyo', 37000000), ('Japan', 'JP', 'Asia', 'Osaka', 19000000),
       ('Japan', 'JP', 'Asia', 'Sapporo', 2600000), ('Japan', 'JP', 'Asia', 'Fukuoka', 2500000),
       ('Japan', 'JP', 'Asia', 'Kyoto', 1500000),
       ('South Korea', 'KR', 'Asia', 'Seoul', 25000000), ('South Korea', 'KR', 'Asia', 'Busan', 3400000),
       ('China', 'CN', 'Asia', 'Shanghai', 24900000), ('China', 'CN', 'Asia', 'Beijing', 21500000),
       ('China', 'CN', 'Asia', 'Chengdu', 16000000),
       ('India', 'IN', 'Asia', 'Mumbai', 20700000), ('India', 'IN', 'Asia', 'Delhi', 32000000),
       ('India', 'IN', 'Asia', 'Bengaluru', 13600000), ('India', 'IN', 'Asia', 'Chennai', 11500000),
       ('India', 'IN', 'Asia', 'Pune', 7200000),
       ('Singapore', 'SG', 'Asia', 'Singapore', 5900000),
       ('Indonesia', 'ID', 'Asia', 'Jakarta', 10600000), ('Indonesia', 'ID', 'Asia', 'Surabaya', 2900000),
       ('Thailand', 'TH', 'Asia', 'Bangkok', 10900000), ('Thailand', 'TH', 'Asia', 'Chiang Mai', 1200000),
       ('Vietnam', 'VN', 'Asia', 'Hanoi', 8400000), ('Vietnam', 'VN', 'Asia', 'Ho Chi Minh City', 9300000),
       ('Philippines', 'PH', 'Asia', 'Manila', 14400000), ('Philippines', 'PH', 'Asia', 'Cebu City', 960000),
       ('Brazil', 'BR', 'South America', 'São Paulo', 22400000),
       ('Brazil', 'BR', 'South America', 'Rio de Janeiro', 13600000),
       ('Brazil', 'BR', 'South America', 'Belo Horizonte', 6000000),
       ('Brazil', 'BR', 'South America', 'Porto Alegre', 4300000),
       ('Brazil', 'BR', 'South America', 'Recife', 4100000),
       ('Argentina', 'AR', 'South America', 'Buenos Aires', 15400000),
       ('Argentina', 'AR', 'South America', 'Córdoba', 1600000),
       ('Argentina', 'AR', 'South America', 'Rosario', 1300000),
       ('Chile', 'CL', 'South America', 'Santiago', 6900000), ('Chile', 'CL', 'South America', 'Valparaíso', 1000000),
       ('Colombia', 'CO', 'South America', 'Bogotá', 11300000),
       ('Colombia', 'CO', 'South America', 'Medellín', 4000000),
       ('Peru', 'PE', 'South America', 'Lima', 11000000), ('Peru', 'PE', 'South America', 'Arequipa', 1100000),
       ('Mexico', 'MX', 'North America', 'Mexico City', 22000000),
       ('Mexico', 'MX', 'North America', 'Guadalajara', 5300000),
       ('Mexico', 'MX', 'North America', 'Monterrey', 5300000),
       ('Mexico', 'MX', 'North America', 'Puebla', 3200000),
       ('South Africa', 'ZA', 'Africa', 'Johannesburg', 6100000),
       ('South Africa', 'ZA', 'Africa', 'Cape Town', 4800000), ('South Africa', 'ZA', 'Africa', 'Durban', 3200000),
       ('Nigeria', 'NG', 'Africa', 'Lagos', 15400000), ('Nigeria', 'NG', 'Africa', 'Abuja', 3800000),
       ('Kenya', 'KE', 'Africa', 'Nairobi', 5100000), ('Kenya', 'KE', 'Africa', 'Mombasa', 1300000),
       ('Egypt', 'EG', 'Africa', 'Cairo', 22100000), ('Egypt', 'EG', 'Africa', 'Alexandria', 5500000),
       ('Morocco', 'MA', 'Africa', 'Casablanca', 3800000), ('Morocco', 'MA', 'Africa', 'Marrakesh', 1000000),
       ('Ghana', 'GH', 'Africa', 'Accra', 2600000), ('Ghana', 'GH', 'Africa', 'Kumasi', 3600000),
       ('New Zealand', 'NZ', 'Oceania', 'Auckland', 1700000), ('New Zealand', 'NZ', 'Oceania', 'Wellington', 420000),
       ('New Zealand', 'NZ', 'Oceania', 'Christchurch', 400000);

-- Ids follow the order of the list above, so Portugal is country 1 and Lisbon city 1.
INSERT INTO country (country_id, name, iso_code, continent)
SELECT row_number() OVER (ORDER BY min(ctid)), country, iso, continent
  FROM places
 GROUP BY country, iso, continent;

INSERT INTO city (city_id, name, country_id, population)
SELECT row_number() OVER (ORDER BY p.ctid), p.city, c.country_id, p.population
  FROM places p
  JOIN country c ON c.iso_code = p.iso;

-- Addresses 1-3 are the stores', 4-9 the staff's (two per store), 10-609 the customers'.
-- Customers mostly live in their home store's country, some anywhere.
CREATE TEMPORARY TABLE store_seed (store_id smallint, city text, name text, opened_on date, location point);
INSERT INTO store_seed
VALUES (1, 'Lisbon', 'Rewind Lisbon', '2019-03-15', point(-9.1393, 38.7223)),
       (2, 'Toronto', 'Rewind Toronto', '2020-06-01', point(-79.3832, 43.6532)),
       (3, 'Melbourne', 'Rewind Melbourne', '2021-09-20', point(144.9631, -37.8136));

CREATE TEMPORARY TABLE address_home AS
SELECT a AS address_id,
       CASE WHEN a <= 3 THEN a
            WHEN a <= 9 THEN (a - 2) / 2
            ELSE pg_temp.pick(a, 1, 3) END::smallint AS store_id
  FROM generate_series(1, 609) AS a;

INSERT INTO address (address_id, line1, line2, district, city_id, postal_code, phone)
SELECT h.address_id,
       pg_temp.pick(h.address_id, 2, 240) || ' ' || pg_temp.elem(pg_temp.streets(), h.address_id, 3) || ' ' ||
           pg_temp.elem(pg_temp.street_kinds(), h.address_id, 4),
       CASE WHEN pg_temp.rnd(h.address_id, 5) < 0.06 THEN 'Apt ' || pg_temp.pick(h.address_id, 6, 60)
            WHEN pg_temp.rnd(h.address_id, 5) < 0.12 THEN 'Floor ' || pg_temp.pick(h.address_id, 6, 12)
            WHEN pg_temp.rnd(h.address_id, 5) < 0.15 THEN 'Unit ' || pg_temp.pick(h.address_id, 6, 30) END,
       pg_temp.elem(pg_temp.districts(), h.address_id, 7),
       CASE WHEN h.address_id <= 9 THEN home.city_id
            WHEN pg_temp.rnd(h.address_id, 8) < 0.7
                THEN (SELECT ci.city_id FROM city ci
                       WHERE ci.country_id = home.country_id
                       ORDER BY pg_temp.rnd(h.address_id * 1000 + ci.city_id, 9) LIMIT 1)
            ELSE pg_temp.pick(h.address_id, 10, (SELECT count(*)::integer FROM city)) END,
       CASE WHEN pg_temp.rnd(h.address_id, 11) >= 0.05 THEN lpad(pg_temp.pick(h.address_id, 12, 99998)::text, 5, '0') END,
       format('%s-%s-%s', 199 + pg_temp.pick(h.address_id, 13, 800), 199 + pg_temp.pick(h.address_id, 14, 800),
              999 + pg_temp.pick(h.address_id, 15, 9000))
  FROM address_home h
  JOIN store_seed s USING (store_id)
  JOIN city home ON home.name = s.city;

-- Stores and staff reference each other (the foreign keys are checked at the end, like all of them).
INSERT INTO store (store_id, name, manager_staff_id, address_id, opened_on, location)
SELECT store_id, name, 2 * store_id - 1, store_id, opened_on, location
  FROM store_seed;

INSERT INTO staff (staff_id, first_name, last_name, address_id, email, store_id, username, hired_on, hourly_wage,
                   picture)
SELECT staff_id, first_name, last_name, staff_id + 3,
       pg_temp.mailbox(first_name) || '.' || pg_temp.mailbox(last_name) || '@rewind.example.com',
       (staff_id + 1) / 2, pg_temp.mailbox(first_name), hired_on, hourly_wage,
       CASE WHEN staff_id <> 4 THEN
           '\x89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478da63c8ea590f00030901a6d2043bfc0000000049454e44ae426082'::bytea
       END
  FROM (VALUES (1, 'Inês', 'Duarte', date '2019-02-01', 16.50), (2, 'Rui', 'Matos', date '2019-03-01', 12.75),
               (3, 'Hannah', 'Clarke', date '2020-05-04', 24.00), (4, 'Dev', 'Malhotra', date '2020-05-18', 18.25),
               (5, 'Mei', 'Lin', date '2021-08-30', 31.40), (6, 'Jack', 'Riley', date '2022-11-07', 26.10))
       AS t(staff_id, first_name, last_name, hired_on, hourly_wage);

-- Catalogue ------------------------------------------------------------------------------------------------------

-- Distinct name pairs, in hash order: 200 for actors, 600 for customers.
INSERT INTO actor (actor_id, first_name, last_name, birth_year)
SELECT row_number() OVER (ORDER BY k), first_name, last_name,
       CASE WHEN pg_temp.rnd(k, 22) < 0.9 THEN 1940 + pg_temp.pick(k, 23, 60) END
  FROM (SELECT DISTINCT ON (first_name, last_name) k, first_name, last_name
          FROM (SELECT k, pg_temp.elem(pg_temp.first_names(), k, 20) AS first_name,
                       pg_temp.elem(pg_temp.last_names(), k, 21) AS last_name
                  FROM generate_series(1, 400) AS k) AS candidates
         ORDER BY first_name, last_name, k) AS pairs
 ORDER BY k
 LIMIT 200;

INSERT INTO film (film_id, title, description, release_year, language_id, original_language_id, rental_duration,
                  rental_rate, length, replacement_cost, rating, special_features, metadata)
SELECT f.film_id,
       CASE WHEN pg_temp.rnd(f.film_id, 30) < 0.15 THEN 'The ' ELSE '' END || f.adjective || ' ' || f.noun,
       CASE WHEN pg_temp.elem(pg_temp.tones(), f.film_id, 31) ~ '^[aeiou]' THEN 'An ' ELSE 'A ' END ||
           pg_temp.elem(pg_temp.tones(), f.film_id, 31) || ' story of ' || pg_temp.elem(pg_temp.characters(), f.film_id, 32) ||
           ' ' || pg_temp.elem(pg_temp.actions(), f.film_id, 33) || ' ' || pg_temp.elem(pg_temp.places(), f.film_id, 34) || '.',
       1969 + ceil(power(pg_temp.rnd(f.film_id, 35), 0.6) * 55)::integer,
       lang.language_id,
       CASE WHEN lang.language_id = 1 AND pg_temp.rnd(f.film_id, 37) < 0.08 THEN 1 + pg_temp.pick(f.film_id, 38, 9) END,
       2 + pg_temp.pick(f.film_id, 39, 5),
       (ARRAY[0.99, 2.99, 4.99])[pg_temp.pick(f.film_id, 40, 3)],
       CASE WHEN pg_temp.rnd(f.film_id, 41) >= 0.01 THEN 69 + pg_temp.pick(f.film_id, 42, 110) END,
       8.99 + pg_temp.pick(f.film_id, 43, 21),
       (enum_range(NULL::mpaa_rating))[pg_temp.pick(f.film_id, 44, 5)],
       nullif(ARRAY(SELECT feature
                      FROM unnest(ARRAY['Trailers', 'Commentaries', 'Deleted Scenes', 'Behind the Scenes'])
                           WITH ORDINALITY AS t(feature, n)
                     WHERE pg_temp.rnd(f.film_id * 10 + n, 45) < 0.4
                     ORDER BY n), '{}'),
       jsonb_build_object(
           'studio', pg_temp.elem(pg_temp.studios(), f.film_id, 46),
           'budget_musd', round((0.5 + power(pg_temp.rnd(f.film_id, 47), 2) * 180)::numeric, 1),
           'color', pg_temp.rnd(f.film_id, 48) >= 0.06,
           'aspect_ratio', pg_temp.elem(ARRAY['1.33:1', '1.85:1', '2.39:1', '16:9'], f.film_id, 49),
           'awards', to_jsonb(ARRAY(SELECT award
                                      FROM unnest(ARRAY['Best Picture', 'Best Director', 'Best Score',
                                                        'Best Cinematography', 'Audience Award'])
                                           WITH ORDINALITY AS t(award, n)
                                     WHERE pg_temp.rnd(f.film_id * 10 + n, 50) < 0.06
                                     ORDER BY n)))
  FROM (SELECT row_number() OVER (ORDER BY pg_temp.rnd(a.n * 100 + b.n, 29))::integer AS film_id,
               a.word AS adjective, b.word AS noun
          FROM unnest(pg_temp.title_adjectives()) WITH ORDINALITY AS a(word, n)
         CROSS JOIN unnest(pg_temp.title_nouns()) WITH ORDINALITY AS b(word, n)
         ORDER BY 1
         LIMIT 1000) AS f
 CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.rnd(f.film_id, 36) < 0.75 THEN 1
                                 ELSE 1 + pg_temp.pick(f.film_id, 51, 9) END::smallint AS language_id) AS lang
 ORDER BY f.film_id;

-- Every film has one genre, a quarter of them a second.
INSERT INTO film_category (film_id, category_id)
SELECT DISTINCT film_id, category_id
  FROM (SELECT film_id, pg_temp.pick(film_id, 60, 16) AS category_id FROM film
        UNION ALL
        SELECT film_id, pg_temp.pick(film_id, 62, 16) FROM film WHERE pg_temp.rnd(film_id, 61) < 0.25) AS t
 ORDER BY film_id, category_id;

-- Three to eight credited actors per film, billed in the order they were drawn.
INSERT INTO film_actor (actor_id, film_id, billing_order)
SELECT actor_id, film_id, row_number() OVER (PARTITION BY film_id ORDER BY slot)
  FROM (SELECT DISTINCT ON (f.film_id, a.actor_id) f.film_id, a.actor_id, s.slot
          FROM film f
         CROSS JOIN LATERAL generate_series(1, 2 + pg_temp.pick(f.film_id, 70, 6)) AS s(slot)
         CROSS JOIN LATERAL (SELECT pg_temp.pick(f.film_id * 10 + s.slot, 71, 200) AS actor_id) AS a
         ORDER BY f.film_id, a.actor_id, s.slot) AS credits
 ORDER BY film_id, actor_id;

-- Zero to nine copies of each film, spread over the stores, bought in the second half of 2022.
INSERT INTO inventory (inventory_id, film_id, store_id, acquired_on, condition)
SELECT row_number() OVER (ORDER BY store_id, film_id, copy), film_id, store_id,
       date '2022-06-01' + pg_temp.pick(film_id * 10 + copy, 82, 200) - 1,
       pg_temp.elem(ARRAY['new', 'good', 'good', 'worn'], film_id * 10 + copy, 83)
  FROM (SELECT f.film_id, c.copy, pg_temp.pick(f.film_id * 10 + c.copy, 81, 3)::smallint AS store_id
          FROM film f
         CROSS JOIN LATERAL generate_series(1, pg_temp.pick(f.film_id, 80, 10) - 1) AS c(copy)) AS copies;

-- Customers and business -----------------------------------------------------------------------------------------

INSERT INTO customer (customer_id, store_id, first_name, last_name, email, address_id, active, created_at,
                      preferences)
SELECT c.customer_id, h.store_id, c.first_name, c.last_name,
       CASE WHEN pg_temp.rnd(c.customer_id, 92) >= 0.03 THEN
           pg_temp.mailbox(c.first_name) || '.' || pg_temp.mailbox(c.last_name) || '@' ||
           pg_temp.elem(pg_temp.mail_domains(), c.customer_id, 93) END,
       c.customer_id + 9,
       pg_temp.rnd(c.customer_id, 94) >= 0.04,
       timestamptz '2021-01-01 00:00:00+00' + make_interval(secs => floor(pg_temp.rnd(c.customer_id, 95) * 700 * 86400)),
       CASE WHEN pg_temp.rnd(c.customer_id, 96) >= 0.1 THEN
           json_build_object(
               'newsletter', pg_temp.rnd(c.customer_id, 97) < 0.4,
               'favorite_category', (SELECT name FROM category
                                      WHERE category_id = pg_temp.pick(c.customer_id, 98, 20)),
               'subtitles', pg_temp.rnd(c.customer_id, 99) < 0.3,
               'contact', pg_temp.elem(ARRAY['email', 'sms', 'none'], c.customer_id, 100)) END
  FROM (SELECT row_number() OVER (ORDER BY k)::integer AS customer_id, first_name, last_name
          FROM (SELECT DISTINCT ON (first_name, last_name) k, first_name, last_name
                  FROM (SELECT k, pg_temp.elem(pg_temp.first_names(), k, 90) AS first_name,
                               pg_temp.elem(pg_temp.last_names(), k, 91) AS last_name
                          FROM generate_series(1, 1200) AS k) AS candidates
                 ORDER BY first_name, last_name, k) AS pairs
         ORDER BY k
         LIMIT 600) AS c
  JOIN address_home h ON h.address_id = c.customer_id + 9;

-- Each copy is rented two to five times, once per equal slice of the two years, at a hashed point in the slice
-- that leaves two weeks free before the next slice, and returned within 13 days, so rentals of one copy never
-- overlap. Renters are skewed (some customers rent far more) and permuted so activity does not follow ids.
-- Copies rented in the last days of 2024 are mostly still out, and a few copies were never returned.
CREATE TEMPORARY TABLE rental_seed AS
SELECT i.inventory_id, i.store_id, s.slot, f.rental_rate, f.rental_duration, f.replacement_cost,
       timestamptz '2023-01-01 00:00:00+00'
           + make_interval(days => floor((s.slot + pg_temp.rnd(i.inventory_id * 10 + s.slot, 111)
                                                   * (1 - 14 * s.slots / 731.0)) * 731 / s.slots)::integer,
                           secs => 32400 + floor(pg_temp.rnd(i.inventory_id * 10 + s.slot, 112) * 43200))
           AS rental_date,
       make_interval(days => floor(power(pg_temp.rnd(i.inventory_id * 10 + s.slot, 113), 1.5) * 12)::integer + 1,
                     secs => floor(pg_temp.rnd(i.inventory_id * 10 + s.slot, 114) * 36000))
           AS kept_for,
       1 + (floor(600 * power(pg_temp.rnd(i.inventory_id * 10 + s.slot, 115), 1.4))::integer * 7919) % 600
           AS customer_id,
       ((i.store_id - 1) * 2 + pg_temp.pick(i.inventory_id * 10 + s.slot, 116, 2))::smallint AS staff_id,
       pg_temp.rnd(i.inventory_id * 10 + s.slot, 117) AS outstanding_draw,
       s.slot = s.slots - 1 AS last_slot
  FROM inventory i
  JOIN film f USING (film_id)
 CROSS JOIN LATERAL (SELECT 1 + pg_temp.pick(i.inventory_id, 110, 4) AS slots) AS n
 CROSS JOIN LATERAL (SELECT g AS slot, n.slots FROM generate_series(0, n.slots - 1) AS g) AS s;

INSERT INTO rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id)
SELECT row_number() OVER (ORDER BY rental_date, inventory_id), rental_date, inventory_id, customer_id,
       CASE WHEN rental_date + kept_for > timestamptz '2024-12-31 18:00:00+00' THEN NULL
            WHEN rental_date > timestamptz '2024-12-17 00:00:00+00' AND outstanding_draw < 0.6 THEN NULL
            WHEN last_slot AND outstanding_draw < 0.015 THEN NULL
            ELSE rental_date + kept_for END,
       staff_id
  FROM rental_seed
 ORDER BY 1;

-- One payment per rental: the rate, plus 1.00 per day late (up to the replacement cost), paid on return;
-- copies still out were paid for at the counter.
INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date, method)
SELECT row_number() OVER (ORDER BY payment_date, rental_id), customer_id, staff_id, rental_id, amount, payment_date,
       method
  FROM (SELECT r.rental_id, r.customer_id, r.staff_id,
               CASE WHEN r.return_date IS NULL THEN f.rental_rate
                    ELSE f.rental_rate + least(f.replacement_cost,
                         greatest(0, ceil(extract(epoch FROM r.return_date - r.rental_date) / 86400)
                                     - f.rental_duration)) END AS amount,
               coalesce(r.return_date, r.rental_date + interval '3 minutes') AS payment_date,
               (ARRAY['card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card',
                      'cash', 'cash', 'cash', 'cash', 'mobile', 'mobile', 'mobile', 'mobile',
                      'gift_card']::payment_method[])[pg_temp.pick(r.rental_id, 120, 20)] AS method
          FROM rental r
          JOIN inventory i USING (inventory_id)
          JOIN film f USING (film_id)) AS p
 ORDER BY 1;

-- Web analytics --------------------------------------------------------------------------------------------------

-- 25,000 visits in 2024, one to seven page views each (about 100,000 rows). A view is a bounce when it is
-- the only one of its visit; later views were referred by the previous page of the same visit.
-- Visits are built first so their attributes are computed once, not once per view.
-- The devices visitors use (1-4 phones, 5-10 desktops, 11-12 tablets); each visit uses one.
CREATE TEMPORARY TABLE device_kind AS
SELECT row_number() OVER (ORDER BY n) AS device_no,
       jsonb_build_object('type', kind, 'os', os, 'browser', browser,
                          'screen', jsonb_build_object('w', w, 'h', h), 'touch', kind <> 'desktop') AS device
  FROM (VALUES (1, 'mobile', 'Android', 'Chrome', 390, 844), (2, 'mobile', 'Android', 'Firefox', 412, 915),
               (3, 'mobile', 'iOS', 'Safari', 390, 844), (4, 'mobile', 'iOS', 'Chrome', 430, 932),
               (5, 'desktop', 'Windows', 'Chrome', 1920, 1080), (6, 'desktop', 'Windows', 'Edge', 1366, 768),
               (7, 'desktop', 'Windows', 'Firefox', 1920, 1080), (8, 'desktop', 'macOS', 'Safari', 1440, 900),
               (9, 'desktop', 'macOS', 'Chrome', 2560, 1440), (10, 'desktop', 'Linux', 'Firefox', 1920, 1200),
               (11, 'tablet', 'iOS', 'Safari', 820, 1180), (12, 'tablet', 'Android', 'Chrome', 800, 1280))
       AS t(n, kind, os, browser, w, h);

CREATE TEMPORARY TABLE visit AS
SELECT g AS visit_no,
       pg_temp.pick(g, 140, 7) AS views,
       timestamptz '2024-01-01 00:00:00+00' + make_interval(secs => floor(pg_temp.rnd(g, 141) * 366 * 86400))
           AS started_at,
       CASE WHEN pg_temp.rnd(g, 142) < 0.55 THEN 1 + (pg_temp.pick(g, 143, 600) * 7919) % 600 END AS customer_id,
       md5('visit:' || g)::uuid AS session_id,
       CASE pg_temp.pick(g, 144, 5)
           WHEN 1 THEN 'https://search.example.com/?q=' || lower(pg_temp.elem(pg_temp.title_adjectives(), g, 145))
                       || '+films'
           WHEN 2 THEN 'https://social.example.net/p/' || pg_temp.pick(g, 146, 90000)
           WHEN 3 THEN 'https://news.example.org/reviews/' || pg_temp.pick(g, 147, 5000)
           END AS landing_referrer,
       CASE WHEN pg_temp.rnd(g, 148) < 0.1 THEN
           format('2001:db8:%s:%s::%s', to_hex(pg_temp.pick(g, 149, 65535)), to_hex(pg_temp.pick(g, 150, 65535)),
                  to_hex(pg_temp.pick(g, 151, 65535)))::inet
       ELSE (pg_temp.elem(ARRAY['192.0.2.', '198.51.100.', '203.0.113.'], g, 152) || pg_temp.pick(g, 153, 254))::inet
       END AS client_ip,
       d.device
  FROM generate_series(1, 25000) AS g
  JOIN device_kind d
    ON d.device_no = CASE WHEN pg_temp.rnd(g, 154) < 0.55 THEN pg_temp.pick(g, 155, 4)
                          WHEN pg_temp.rnd(g, 154) < 0.93 THEN 4 + pg_temp.pick(g, 155, 6)
                          ELSE 10 + pg_temp.pick(g, 155, 2) END;

INSERT INTO page_views (view_id, viewed_at, customer_id, session_id, path, referrer, load_time_ms, scroll_depth,
                        is_bounce, client_ip, device)
SELECT row_number() OVER (ORDER BY viewed_at, visit_no, view_no), viewed_at, customer_id, session_id, path,
       CASE WHEN view_no > 1 THEN 'https://rentals.example.com'
                                  || lag(path) OVER (PARTITION BY visit_no ORDER BY view_no)
            ELSE landing_referrer END,
       load_time_ms, scroll_depth, views = 1, client_ip, device
  FROM (SELECT s.*, v.view_no, s.visit_no * 10 + v.view_no AS k,
               s.started_at + make_interval(secs => (v.view_no - 1) * 45
                                                    + floor(pg_temp.rnd(s.visit_no * 10 + v.view_no, 130) * 40))
                   AS viewed_at
          FROM visit s
         CROSS JOIN LATERAL generate_series(1, s.views) AS v(view_no)) AS sv
 CROSS JOIN LATERAL (
       SELECT CASE pg_temp.pick(sv.k, 131, CASE WHEN sv.view_no = 1 THEN 3 ELSE 9 END)
                  WHEN 1 THEN '/'
                  WHEN 2 THEN '/films/' || pg_temp.pick(sv.k, 132, 1000)
                  WHEN 3 THEN '/search?q=' || lower(pg_temp.elem(pg_temp.title_nouns(), sv.k, 133))
                  WHEN 4 THEN '/films'
                  WHEN 5 THEN '/categories/' || pg_temp.pick(sv.k, 134, 16)
                  WHEN 6 THEN '/account'
                  WHEN 7 THEN '/account/rentals'
                  WHEN 8 THEN '/stores/' || pg_temp.pick(sv.k, 135, 3)
                  ELSE '/checkout' END AS path,
              120 + floor(-ln(1 - pg_temp.rnd(sv.k, 136)) * 400)::integer AS load_time_ms,
              CASE WHEN pg_temp.rnd(sv.k, 137) >= 0.05 THEN round(pg_temp.rnd(sv.k, 138)::numeric, 2)::real END
                  AS scroll_depth) AS p;

-- Finish ---------------------------------------------------------------------------------------------------------

-- Build the indexes, check and restore the foreign keys, put the defaults back and move every sequence past the ids inserted
-- explicitly.
DO
$$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT def FROM deferred_indexes LOOP
        EXECUTE c.def;
    END LOOP;
    FOR c IN SELECT tab, conname, def FROM deferred_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.tab, c.conname, c.def);
    END LOOP;
    FOR c IN SELECT table_name FROM information_schema.columns
              WHERE table_schema = 'public' AND column_name = 'last_update' LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN last_update SET DEFAULT now()', c.table_name);
    END LOOP;
    FOR c IN SELECT a.attrelid::regclass AS tab, a.attname AS col,
                    pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) AS seq
               FROM pg_attribute a
               JOIN pg_class r ON r.oid = a.attrelid
              WHERE r.relnamespace = 'public'::regnamespace AND r.relkind IN ('r', 'p') AND a.attnum > 0
                AND NOT a.attisdropped AND NOT r.relispartition
                AND pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) IS NOT NULL LOOP
        EXECUTE format('SELECT setval(%L, coalesce((SELECT max(%I) FROM %s), 0) + 1, false)', c.seq, c.col, c.tab);
    END LOOP;
END
$$;

REFRESH MATERIALIZED VIEW monthly_category_revenue;
COMMIT;

-- Statistics now, so plans and row estimates are right from the first query. page_views gets a smaller
-- sample: the default one (30,000 rows, sorted per column, jsonb included) would double the load time.
ANALYZE language, category, country, city, address, store, staff, actor, film, film_actor, film_category,
        inventory, customer, rental, payment, monthly_category_revenue;
SET default_statistics_target = 20;
ANALYZE page_views;
RESET default_statistics_target;
