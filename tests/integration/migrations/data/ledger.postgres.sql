--
-- PostgreSQL database dump
--

\restrict W6b5lIo3LuEys3nHpDrFiRqPEaCv4SXcIsL1QwoxFetttTtgD94682RqtfTiR6L

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: ledgers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledgers (
    id integer NOT NULL,
    name character varying(128) NOT NULL,
    metadata_json text NOT NULL,
    size integer NOT NULL,
    root_hash character varying(64) NOT NULL,
    last_round character varying(32) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: ledgers_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ledgers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ledgers_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ledgers_id_seq OWNED BY public.ledgers.id;


--
-- Name: rounds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rounds (
    id character varying(32) NOT NULL,
    ledger_name character varying(128) NOT NULL,
    kind character varying(8) NOT NULL,
    actor character varying(64) NOT NULL,
    status character varying(10) NOT NULL,
    base_size integer NOT NULL,
    base_root character varying(64) NOT NULL,
    new_size integer NOT NULL,
    new_root character varying(64) NOT NULL,
    proposal_json text NOT NULL,
    certificate_json text,
    deadline double precision NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tokens (
    digest character varying(64) NOT NULL,
    username character varying(64) NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL,
    revoked integer NOT NULL
);


--
-- Name: transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transactions (
    id integer NOT NULL,
    ledger_id integer NOT NULL,
    seq_no integer NOT NULL,
    entry_json text NOT NULL,
    leaf_hash character varying(64) NOT NULL,
    round_id character varying(32) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: transactions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.transactions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: transactions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.transactions_id_seq OWNED BY public.transactions.id;


--
-- Name: ledgers id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledgers ALTER COLUMN id SET DEFAULT nextval('public.ledgers_id_seq'::regclass);


--
-- Name: transactions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions ALTER COLUMN id SET DEFAULT nextval('public.transactions_id_seq'::regclass);


--
-- Data for Name: ledgers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ledgers VALUES (1, 'name-1', '{"row": 1, "table": "ledgers"}', 1, 'VFJILKGFJTJTAGWJG9JYDCLCGC999CIYLAZGDTSWOEQXYPANNOXBTN99KVEPMIXY', 'last_round-1', 1796640060);
INSERT INTO public.ledgers VALUES (2, 'name-2', '{"row": 2, "table": "ledgers"}', 2, 'QMPTGFWXPZUCSUJFFFQDVDBXGCNMDABGVJTFPUYMHXSYTNRAHSHWV9BBYEMXFNHV', 'last_round-2', 1796640120);
INSERT INTO public.ledgers VALUES (3, 'name-3', '{"row": 3, "table": "ledgers"}', 3, 'FKHIQHKZKWYHXEXDBRFSFBZHKEMPCRUODONKVLPTPEMOXEDABZTTDLLUNXZNQXIO', 'last_round-3', 1796640180);


--
-- Data for Name: rounds; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.rounds VALUES ('id-1', 'ledger_name-1', 'kind-1', 'actor-1', 'attached', 1, 'BNEFJCVYCUOLKZFJQUAHIFV9EVJUCIZDBGMCGIRDNOMVNF9IUTIF9SFWDQYJNKWM', 1, 'HXLVDUGQVLCHWAUQCMO9GAQJLWXUOOAJFLATNXHXTSIQQNHPZNUXWVBFPNZVH9AJ', '{"row": 1, "table": "rounds"}', '{"row": 1, "table": "rounds"}', 1.25, 1796640060, 1796640060);
INSERT INTO public.rounds VALUES ('id-2', 'ledger_name-2', 'kind-2', 'actor-2', 'signed', 2, 'GIGISQZSIVAOCJELRAKHKSCVJVYOGXIUTUQHECAPDQXVNJ9VOJBHHDIWDPHDSCUD', 2, 'NMMOUVJZXXKWUKQCDUMXZBDPVC9APOAOUYNKQ9JTQMJK9FEGJGCUARHMOZJOMVPG', '{"row": 2, "table": "rounds"}', '{"row": 2, "table": "rounds"}', 2.5, 1796640120, 1796640120);
INSERT INTO public.rounds VALUES ('id-3', 'ledger_name-3', 'kind-3', 'actor-3', 'settled', 3, 'IAYOZLSJZPAHCLDDD9MHZKVSKN9G9TGYJDVLFAGUAN9TKYDCMBXSEWMUVZNEUVAU', 3, 'NYQDB9ETDXDPHMZABOWYNTKVFLFKTGOLFMYTEGLGBYXCPAXHFCVSOZUYNAETHDAM', '{"row": 3, "table": "rounds"}', '{"row": 3, "table": "rounds"}', 3.75, 1796640180, 1796640180);


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tokens VALUES ('digest-1', 'username-1', 1796640060, 1796640060, 1);
INSERT INTO public.tokens VALUES ('digest-2', 'username-2', 1796640120, 1796640120, 2);
INSERT INTO public.tokens VALUES ('digest-3', 'username-3', 1796640180, 1796640180, 3);


--
-- Data for Name: transactions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.transactions VALUES (1, 1, 1, '{"row": 1, "table": "transactions"}', 'ZSQVNBZNOMHGNGJD9UOAJECEHX9TUGTTAWVFYRBZSPLBWVBGKKHHYEBTJCPBQYNB', 'round_id-1', 1796640060);
INSERT INTO public.transactions VALUES (2, 2, 2, '{"row": 2, "table": "transactions"}', 'KBACOTOBMRSWMBCVZCNUZJIOWDZFWSFDQHKHFKJF9OMGGBBOIMKNWKHYWSKUIBG9', 'round_id-2', 1796640120);
INSERT INTO public.transactions VALUES (3, 3, 3, '{"row": 3, "table": "transactions"}', 'NSNXGZHXSL99NJJQCWVXJKUOWNRARBVLPMZINLNT9YFFQHNMLNSREIOICLQITMYP', 'round_id-3', 1796640180);


--
-- Name: ledgers_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ledgers_id_seq', 1, false);


--
-- Name: transactions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.transactions_id_seq', 1, false);


--
-- Name: ledgers ledgers_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledgers
    ADD CONSTRAINT ledgers_name_key UNIQUE (name);


--
-- Name: ledgers ledgers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledgers
    ADD CONSTRAINT ledgers_pkey PRIMARY KEY (id);


--
-- Name: rounds rounds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rounds
    ADD CONSTRAINT rounds_pkey PRIMARY KEY (id);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (digest);


--
-- Name: transactions transactions_ledger_id_seq_no_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_ledger_id_seq_no_key UNIQUE (ledger_id, seq_no);


--
-- Name: transactions transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (id);


--
-- Name: ix_rounds_ledger_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_rounds_ledger_name ON public.rounds USING btree (ledger_name);


--
-- Name: ix_rounds_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_rounds_status ON public.rounds USING btree (status);


--
-- Name: ix_tokens_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tokens_expires_at ON public.tokens USING btree (expires_at);


--
-- Name: ix_tokens_username; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tokens_username ON public.tokens USING btree (username);


--
-- Name: ix_transactions_ledger_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_ledger_id ON public.transactions USING btree (ledger_id);


--
-- Name: ix_transactions_round_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_round_id ON public.transactions USING btree (round_id);


--
-- Name: transactions transactions_ledger_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_ledger_id_fkey FOREIGN KEY (ledger_id) REFERENCES public.ledgers(id);


--
-- PostgreSQL database dump complete
--

\unrestrict W6b5lIo3LuEys3nHpDrFiRqPEaCv4SXcIsL1QwoxFetttTtgD94682RqtfTiR6L

