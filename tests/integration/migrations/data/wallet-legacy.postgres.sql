--
-- PostgreSQL database dump
--

\restrict EVMWdzJcUo6V5Fu0RwU4ybeR4ZYBRbYHQhZu3aGiZE1hJN6Y6mv2eY4mUnGbzfx

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
-- Name: wallet_addresses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_addresses (
    wallet_id character varying(64) NOT NULL,
    security integer NOT NULL,
    key_index integer NOT NULL,
    address character varying(81) NOT NULL,
    purpose character varying(200) NOT NULL,
    spent boolean NOT NULL,
    created_at double precision NOT NULL,
    spent_at double precision
);


--
-- Name: wallet_sends; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_sends (
    id integer NOT NULL,
    wallet_id character varying(64) NOT NULL,
    security integer NOT NULL,
    bundle_hash character varying(81) NOT NULL,
    to_address character varying(81) NOT NULL,
    value bigint NOT NULL,
    inputs text NOT NULL,
    remainder_address character varying(81),
    remainder_value bigint NOT NULL,
    trytes text NOT NULL,
    state character varying(16) NOT NULL,
    touched_at double precision NOT NULL,
    owner character varying(80),
    tail_hash character varying(81),
    attempts integer NOT NULL,
    created_at double precision NOT NULL,
    attached_at double precision
);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.wallet_sends_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.wallet_sends_id_seq OWNED BY public.wallet_sends.id;


--
-- Name: wallet_sends id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends ALTER COLUMN id SET DEFAULT nextval('public.wallet_sends_id_seq'::regclass);


--
-- Data for Name: wallet_addresses; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_addresses VALUES ('wallet_id-1', 1, 0, 'KJMBYCL9NSVJITMLKATKLDRDNGRUWPDACCENAJBKFRRNH9EHEEOJLXLGXNDHLCOWEJXADJVU9XDHUGOCB', 'purpose-1', false, 1796640060, 1796640060);
INSERT INTO public.wallet_addresses VALUES ('wallet_id-2', 2, 1, 'B9BHBGYPK9PWM9CUKSCODQPNYFLCLAEWBQGNYFJI9LJMWUCPKKYCCNVNCAOAVIVNILDCTDMVCXQGIXMXL', 'purpose-2', true, 1796640120, 1796640120);
INSERT INTO public.wallet_addresses VALUES ('wallet_id-3', 3, 2, 'AVIGXHIOVKIFROAZXDIRQKNYQAEUJLLLPSELUZDJRFJHWN9FYGYOWWKOVNIWYPHMRFMTHWYVSFVQPBNIE', 'purpose-3', false, 1796640180, 1796640180);


--
-- Data for Name: wallet_sends; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_sends VALUES (1, 'wallet_id-1', 1, 'MHSSRJFJISLPTJJTXDRMLR9HTXXBPRHRRNO9VBZAEPMHHHBFXGGSNCDMADMBVOWMGUVDU9BGKIIOIMKWY', 'ZQUGKKCIQMVRHPHXYEMFMIWZPUUHVZSZFSWOWOSBWJUPAIHCCSMCKHAHVNXEDNRILDQIDQNNLMQYGATJZ', 1000, '{"row": 1, "table": "wallet_sends"}', 'DSKJEKJY9GOOGVLDWHPIEPVXENBQPJHKKBJMJJWSQMGZSNUZCREFBLMZLVBDYHLPLHYKQCDVDL9EDSNHP', 1000, '{"row": 1, "table": "wallet_sends"}', 'attached', 1796640060, 'owner-1', 'PT9IYREAAUJIWHYXZXESHQTKNRJFUSGVPFYFXHJ9VIRHDC9PN9GTET9RLJIAXQHCJRCQKBQIGCWUWLZ9W', 1, 1796640060, 1796640060);
INSERT INTO public.wallet_sends VALUES (2, 'wallet_id-2', 2, 'FXHQAWUBVNRDZRJZEL9JHSU9RFIXUWXHFHWDAWKU9BONPABSJEKMJEVIDYBRYRENEXRYYAAODMJKQUYH9', 'TKDQNNZMGEOUGQWHSNCNRFKWWLGMMPIRKGIMKRQS9MZHLTXSDEEBKMBWBF9RSFKKTJKGHPWKHCJVRHFQX', 2000, '{"row": 2, "table": "wallet_sends"}', 'KGHTHADLAG9LVNJ9SHIDTGACMZKFEB9BVNQPCLQEVTEFLTSFICIVSLPRMPYXRFQALLLOOYSLMIHLAWKOK', 2000, '{"row": 2, "table": "wallet_sends"}', 'signed', 1796640120, 'owner-2', 'VZMVCNTGXEDFJBGEJWQUZEOBIEOHHWHXWEUFUCOWRHHDOKKJFPXGSIGKIGCEJJKCPEI9XJIDAAGRTBIMQ', 2, 1796640120, 1796640120);
INSERT INTO public.wallet_sends VALUES (3, 'wallet_id-3', 3, 'TDWKLEFPNFRNNAWLCTY9SUYHXARUCUSFWKATRHAIHHOBG9XXEYJQKIXFJQIPIXALXPYQWPZVZRDZPGP99', 'LNGZKPFAPUDUAUB9FITBQN9BGSFROHWNELPYFRBMPRADQTKXCRGRIG9GSXUVRUAYGVFTYUBTQALLD9CTI', 3000, '{"row": 3, "table": "wallet_sends"}', 'BCMRINIU9XGMCRUGEYINOW9JOKXWTTHUXMBFVRRHHZRWICGPJLOJSPQVNMGTA9GMUTGH9IXEJSVBTEQUO', 3000, '{"row": 3, "table": "wallet_sends"}', 'settled', 1796640180, 'owner-3', 'ZEGCGICJZCEBYAMGOAYSWKGCXLAA9STNMKVYKQTELURZFOUHUDOWHLUBNWPPVYGGWBZHHAJGYEHKLHJPH', 3, 1796640180, 1796640180);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.wallet_sends_id_seq', 1, false);


--
-- Name: wallet_addresses wallet_addresses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_addresses
    ADD CONSTRAINT wallet_addresses_pkey PRIMARY KEY (wallet_id, security, key_index);


--
-- Name: wallet_sends wallet_sends_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends
    ADD CONSTRAINT wallet_sends_pkey PRIMARY KEY (id);


--
-- Name: ix_wallet_addresses_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_addresses_address ON public.wallet_addresses USING btree (address);


--
-- Name: ix_wallet_sends_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_sends_state ON public.wallet_sends USING btree (state);


--
-- Name: ix_wallet_sends_wallet_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_sends_wallet_id ON public.wallet_sends USING btree (wallet_id);


--
-- PostgreSQL database dump complete
--

\unrestrict EVMWdzJcUo6V5Fu0RwU4ybeR4ZYBRbYHQhZu3aGiZE1hJN6Y6mv2eY4mUnGbzfx

