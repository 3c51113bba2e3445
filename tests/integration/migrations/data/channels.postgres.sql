--
-- PostgreSQL database dump
--

\restrict WgYyAZflGVUtYXN9kFjNje5K5gUTN2UooQi2FAYgUtEZDA8sMfq9eiiyRBGu6lc

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
-- Name: channel_channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_channels (
    channel_id character varying(64) NOT NULL,
    definition json NOT NULL,
    role character varying(1) NOT NULL,
    peer_url character varying(500) NOT NULL,
    status character varying(20) NOT NULL,
    period integer NOT NULL,
    deposited_by_me bigint NOT NULL,
    deposited_by_peer bigint NOT NULL,
    deposits_pending bigint NOT NULL,
    spent_by_me bigint NOT NULL,
    my_seq integer NOT NULL,
    received bigint NOT NULL,
    peer_seq integer NOT NULL,
    evidence json,
    payout_address character varying(81),
    is_peer_ready boolean NOT NULL,
    registered boolean NOT NULL,
    close_requested boolean NOT NULL,
    commands json NOT NULL,
    settlements json NOT NULL,
    agent_status character varying(20) NOT NULL,
    agent_milestone integer NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: channel_config; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_config (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: channel_payments_received; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_payments_received (
    id integer NOT NULL,
    channel_id character varying(64) NOT NULL,
    period integer NOT NULL,
    seq integer NOT NULL,
    amount bigint NOT NULL,
    package json NOT NULL,
    answered boolean NOT NULL,
    response json,
    error text,
    front character varying(64) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: channel_payments_received_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.channel_payments_received_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: channel_payments_received_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.channel_payments_received_id_seq OWNED BY public.channel_payments_received.id;


--
-- Name: channel_payments_sent; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_payments_sent (
    id integer NOT NULL,
    channel_id character varying(64) NOT NULL,
    period integer NOT NULL,
    seq integer NOT NULL,
    amount bigint NOT NULL,
    package json NOT NULL,
    message json,
    status character varying(10) NOT NULL,
    response json,
    error text,
    created_at double precision NOT NULL
);


--
-- Name: channel_payments_sent_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.channel_payments_sent_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: channel_payments_sent_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.channel_payments_sent_id_seq OWNED BY public.channel_payments_sent.id;


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
    spent_at double precision,
    reserved boolean DEFAULT false NOT NULL,
    pooled boolean DEFAULT false NOT NULL,
    claimed_by character varying(80)
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
-- Name: channel_payments_received id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_received ALTER COLUMN id SET DEFAULT nextval('public.channel_payments_received_id_seq'::regclass);


--
-- Name: channel_payments_sent id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_sent ALTER COLUMN id SET DEFAULT nextval('public.channel_payments_sent_id_seq'::regclass);


--
-- Name: wallet_sends id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends ALTER COLUMN id SET DEFAULT nextval('public.wallet_sends_id_seq'::regclass);


--
-- Data for Name: channel_channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_channels VALUES ('channel_id-1', '"definition-1"', 'r', 'peer_url-1', 'attached', 1, 1, 1, 1, 1, 1, 1, 1, '"evidence-1"', 'MSLZSIBQOSYZPY9NIZWDZKVXGQJGOERIIFLJYWVLBRCNBMMKCHPBALJUOQXWGYKLEBWD9JBZDLJHDKSGI', false, false, false, '"commands-1"', '"settlements-1"', 'agent_status-1', 1, 1796640060, 1796640060);
INSERT INTO public.channel_channels VALUES ('channel_id-2', '"definition-2"', 'r', 'peer_url-2', 'signed', 2, 2, 2, 2, 2, 2, 2, 2, '"evidence-2"', 'DEDPZUUMKKVVJSRATXKUWNTYOWACCEDGSVFTGLABCKFTBCHWCGIHPYICCCXU9HRENCRZJQEUZUPC9RCXJ', true, true, true, '"commands-2"', '"settlements-2"', 'agent_status-2', 2, 1796640120, 1796640120);
INSERT INTO public.channel_channels VALUES ('channel_id-3', '"definition-3"', 'r', 'peer_url-3', 'settled', 3, 3, 3, 3, 3, 3, 3, 3, '"evidence-3"', 'ZC9HMXTWDTDEQUZNTR9FPNTINHSDMGCRQJJITNGBMAKBPYGFUESNDLB99AWQZVVJ9KGKUDI9ASJSGVJGB', false, false, false, '"commands-3"', '"settlements-3"', 'agent_status-3', 3, 1796640180, 1796640180);


--
-- Data for Name: channel_config; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_config VALUES ('key-1', 'value of row 1');
INSERT INTO public.channel_config VALUES ('key-2', 'value of row 2');
INSERT INTO public.channel_config VALUES ('key-3', 'value of row 3');


--
-- Data for Name: channel_payments_received; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_payments_received VALUES (1, 'channel_id-1', 1, 1, 1000, '"package-1"', false, '"response-1"', 'error of row 1', 'front-1', 1796640060);
INSERT INTO public.channel_payments_received VALUES (2, 'channel_id-2', 2, 2, 2000, '"package-2"', true, '"response-2"', 'error of row 2', 'front-2', 1796640120);
INSERT INTO public.channel_payments_received VALUES (3, 'channel_id-3', 3, 3, 3000, '"package-3"', false, '"response-3"', 'error of row 3', 'front-3', 1796640180);


--
-- Data for Name: channel_payments_sent; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_payments_sent VALUES (1, 'channel_id-1', 1, 1, 1000, '"package-1"', '"message-1"', 'attached', '"response-1"', 'error of row 1', 1796640060);
INSERT INTO public.channel_payments_sent VALUES (2, 'channel_id-2', 2, 2, 2000, '"package-2"', '"message-2"', 'signed', '"response-2"', 'error of row 2', 1796640120);
INSERT INTO public.channel_payments_sent VALUES (3, 'channel_id-3', 3, 3, 3000, '"package-3"', '"message-3"', 'settled', '"response-3"', 'error of row 3', 1796640180);


--
-- Data for Name: wallet_addresses; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_addresses VALUES ('wallet_id-1', 1, 0, 'KJMBYCL9NSVJITMLKATKLDRDNGRUWPDACCENAJBKFRRNH9EHEEOJLXLGXNDHLCOWEJXADJVU9XDHUGOCB', 'purpose-1', false, 1796640060, 1796640060, false, false, 'claimed_by-1');
INSERT INTO public.wallet_addresses VALUES ('wallet_id-2', 2, 1, 'B9BHBGYPK9PWM9CUKSCODQPNYFLCLAEWBQGNYFJI9LJMWUCPKKYCCNVNCAOAVIVNILDCTDMVCXQGIXMXL', 'purpose-2', true, 1796640120, 1796640120, true, true, 'claimed_by-2');
INSERT INTO public.wallet_addresses VALUES ('wallet_id-3', 3, 2, 'AVIGXHIOVKIFROAZXDIRQKNYQAEUJLLLPSELUZDJRFJHWN9FYGYOWWKOVNIWYPHMRFMTHWYVSFVQPBNIE', 'purpose-3', false, 1796640180, 1796640180, false, false, 'claimed_by-3');


--
-- Data for Name: wallet_sends; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_sends VALUES (1, 'wallet_id-1', 1, 'MHSSRJFJISLPTJJTXDRMLR9HTXXBPRHRRNO9VBZAEPMHHHBFXGGSNCDMADMBVOWMGUVDU9BGKIIOIMKWY', 'ZQUGKKCIQMVRHPHXYEMFMIWZPUUHVZSZFSWOWOSBWJUPAIHCCSMCKHAHVNXEDNRILDQIDQNNLMQYGATJZ', 1000, '{"row": 1, "table": "wallet_sends"}', 'DSKJEKJY9GOOGVLDWHPIEPVXENBQPJHKKBJMJJWSQMGZSNUZCREFBLMZLVBDYHLPLHYKQCDVDL9EDSNHP', 1000, '{"row": 1, "table": "wallet_sends"}', 'attached', 1796640060, 'owner-1', 'PT9IYREAAUJIWHYXZXESHQTKNRJFUSGVPFYFXHJ9VIRHDC9PN9GTET9RLJIAXQHCJRCQKBQIGCWUWLZ9W', 1, 1796640060, 1796640060);
INSERT INTO public.wallet_sends VALUES (2, 'wallet_id-2', 2, 'FXHQAWUBVNRDZRJZEL9JHSU9RFIXUWXHFHWDAWKU9BONPABSJEKMJEVIDYBRYRENEXRYYAAODMJKQUYH9', 'TKDQNNZMGEOUGQWHSNCNRFKWWLGMMPIRKGIMKRQS9MZHLTXSDEEBKMBWBF9RSFKKTJKGHPWKHCJVRHFQX', 2000, '{"row": 2, "table": "wallet_sends"}', 'KGHTHADLAG9LVNJ9SHIDTGACMZKFEB9BVNQPCLQEVTEFLTSFICIVSLPRMPYXRFQALLLOOYSLMIHLAWKOK', 2000, '{"row": 2, "table": "wallet_sends"}', 'signed', 1796640120, 'owner-2', 'VZMVCNTGXEDFJBGEJWQUZEOBIEOHHWHXWEUFUCOWRHHDOKKJFPXGSIGKIGCEJJKCPEI9XJIDAAGRTBIMQ', 2, 1796640120, 1796640120);
INSERT INTO public.wallet_sends VALUES (3, 'wallet_id-3', 3, 'TDWKLEFPNFRNNAWLCTY9SUYHXARUCUSFWKATRHAIHHOBG9XXEYJQKIXFJQIPIXALXPYQWPZVZRDZPGP99', 'LNGZKPFAPUDUAUB9FITBQN9BGSFROHWNELPYFRBMPRADQTKXCRGRIG9GSXUVRUAYGVFTYUBTQALLD9CTI', 3000, '{"row": 3, "table": "wallet_sends"}', 'BCMRINIU9XGMCRUGEYINOW9JOKXWTTHUXMBFVRRHHZRWICGPJLOJSPQVNMGTA9GMUTGH9IXEJSVBTEQUO', 3000, '{"row": 3, "table": "wallet_sends"}', 'settled', 1796640180, 'owner-3', 'ZEGCGICJZCEBYAMGOAYSWKGCXLAA9STNMKVYKQTELURZFOUHUDOWHLUBNWPPVYGGWBZHHAJGYEHKLHJPH', 3, 1796640180, 1796640180);


--
-- Name: channel_payments_received_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.channel_payments_received_id_seq', 1, false);


--
-- Name: channel_payments_sent_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.channel_payments_sent_id_seq', 1, false);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.wallet_sends_id_seq', 1, false);


--
-- Name: channel_channels channel_channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_channels
    ADD CONSTRAINT channel_channels_pkey PRIMARY KEY (channel_id);


--
-- Name: channel_config channel_config_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_config
    ADD CONSTRAINT channel_config_pkey PRIMARY KEY (key);


--
-- Name: channel_payments_received channel_payments_received_channel_id_period_seq_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_received
    ADD CONSTRAINT channel_payments_received_channel_id_period_seq_key UNIQUE (channel_id, period, seq);


--
-- Name: channel_payments_received channel_payments_received_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_received
    ADD CONSTRAINT channel_payments_received_pkey PRIMARY KEY (id);


--
-- Name: channel_payments_sent channel_payments_sent_channel_id_period_seq_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_sent
    ADD CONSTRAINT channel_payments_sent_channel_id_period_seq_key UNIQUE (channel_id, period, seq);


--
-- Name: channel_payments_sent channel_payments_sent_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_payments_sent
    ADD CONSTRAINT channel_payments_sent_pkey PRIMARY KEY (id);


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
-- Name: ix_channel_payments_received_channel_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_channel_payments_received_channel_id ON public.channel_payments_received USING btree (channel_id);


--
-- Name: ix_channel_payments_sent_channel_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_channel_payments_sent_channel_id ON public.channel_payments_sent USING btree (channel_id);


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

\unrestrict WgYyAZflGVUtYXN9kFjNje5K5gUTN2UooQi2FAYgUtEZDA8sMfq9eiiyRBGu6lc

