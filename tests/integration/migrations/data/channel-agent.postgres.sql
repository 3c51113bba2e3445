--
-- PostgreSQL database dump
--

\restrict QDcWKkMB75iP7h4XLdid1tvmjUrpEHV28L2aSGB0oAG2PPbA68Vpm2V2DlSORO1

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
-- Name: agent_channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_channels (
    channel_id character varying(64) NOT NULL,
    state text NOT NULL,
    pending boolean NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: agent_escrows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_escrows (
    address character varying(81) NOT NULL,
    channel_id character varying(64) NOT NULL,
    period integer NOT NULL
);


--
-- Name: agent_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_events (
    id integer NOT NULL,
    channel_id character varying(64) NOT NULL,
    milestone integer NOT NULL,
    period integer NOT NULL,
    kind character varying(32) NOT NULL,
    accepted boolean NOT NULL,
    reason character varying(64) NOT NULL,
    bundle character varying(81) NOT NULL
);


--
-- Name: agent_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.agent_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: agent_events_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.agent_events_id_seq OWNED BY public.agent_events.id;


--
-- Name: agent_meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: agent_payouts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_payouts (
    escrow character varying(81) NOT NULL,
    channel_id character varying(64) NOT NULL,
    period integer NOT NULL,
    settlement text NOT NULL,
    trytes text NOT NULL,
    bundle character varying(81) NOT NULL,
    submitted boolean NOT NULL
);


--
-- Name: agent_events id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_events ALTER COLUMN id SET DEFAULT nextval('public.agent_events_id_seq'::regclass);


--
-- Data for Name: agent_channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_channels VALUES ('channel_id-1', 'state of row 1', false, 1);
INSERT INTO public.agent_channels VALUES ('channel_id-2', 'state of row 2', true, 2);
INSERT INTO public.agent_channels VALUES ('channel_id-3', 'state of row 3', false, 3);


--
-- Data for Name: agent_escrows; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_escrows VALUES ('VAPKQNVWJPPGPFBQJ9GCZPIZCNIDXODDTXLCYPHOPMUREFRPQQSGKYA9HKOAAPGXTFEEIACU9IRHFO9YI', 'channel_id-1', 1);
INSERT INTO public.agent_escrows VALUES ('FFFTT9OZBWTWRYYFMNOMAHZHQDZNW9STNAEOGDWPFDGFTBFXHIJUNXHNMSNCIOYKGFQH9LQPWNJZBRJ9N', 'channel_id-2', 2);
INSERT INTO public.agent_escrows VALUES ('FXIFKJRHXHVUAZET9TAHPRXDVYBHDZRLZRFNEPSGDKMWRGHDNLJKSXRHIOSASZLWHUGPLUXDNSGQQONBR', 'channel_id-3', 3);


--
-- Data for Name: agent_events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_events VALUES (1, 'channel_id-1', 1, 1, 'kind-1', false, 'reason-1', 'IAIFMGDARVTVBCED9GSERG9IGRFNLY9UMAVGCFIWSRVBPKPJWPFWBDVPFGKUNBZTQLDLKVFOWCHIFMWAG');
INSERT INTO public.agent_events VALUES (2, 'channel_id-2', 2, 2, 'kind-2', true, 'reason-2', 'CENEVNBYFIJILLT9AH9BPUXLNPPHECPUTIXZFWVLMCUABJEVUKHWRKTBEOBRHYZYTEGRYGXTJNICYCDCC');
INSERT INTO public.agent_events VALUES (3, 'channel_id-3', 3, 3, 'kind-3', false, 'reason-3', 'PRGUCIRMTFLAOMSCKPWYMU99LVFBMHSSYLO9IFNBMJFEMFFIUXNOAIWNJCBCQJECJEVWODOTNX9JI9KOE');


--
-- Data for Name: agent_meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_meta VALUES ('key-1', 'value of row 1');
INSERT INTO public.agent_meta VALUES ('key-2', 'value of row 2');
INSERT INTO public.agent_meta VALUES ('key-3', 'value of row 3');


--
-- Data for Name: agent_payouts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_payouts VALUES ('LZJGTE9EWYVFILXUAS9BAVGACBALIFC9DNUGDMZDTSTTKEPCYXXROOVYJUCBHXIEZDNDFGWGASVQRXYEO', 'channel_id-1', 1, 'settlement of row 1', '{"row": 1, "table": "agent_payouts"}', 'CGUNOMO9RZ9LWBOXIEOCRRLAT9LJGPTCCKYGNQBNIQGCJFFPWUEHNUPEXJSEYZPCJWEVRDS9NPAVKABDP', false);
INSERT INTO public.agent_payouts VALUES ('BYMIKBREFMFRKCQEDIMVBNJ9OAVVWXTOQYEZOJNIDNRWJUCWBVYWCNKP9XYYCD9GXAJRVIUYFALHKAJJV', 'channel_id-2', 2, 'settlement of row 2', '{"row": 2, "table": "agent_payouts"}', 'HFHFEIEHUDNBGQCTCONZROPEYKK9QIT9IURQ9FAURAGMDGJWSLINWQLD9UXADLMW9LYJKJJMEJLUFKPSJ', true);
INSERT INTO public.agent_payouts VALUES ('AIVIPNMVVJOXLTOESTYROQMZEOTJGLNKDON9EZWMLNNAWNCYVGJQRZH9KGTXZ9YEZVWLVPPXSSRIDWOPW', 'channel_id-3', 3, 'settlement of row 3', '{"row": 3, "table": "agent_payouts"}', 'BBDWPRYMWKSOVJZFLXCKJWEAOIFGSTLKLUUYBEWSVKNRITYUAGWTESKBVVCNG9CACVHQABHATJJFZGWVT', false);


--
-- Name: agent_events_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.agent_events_id_seq', 1, false);


--
-- Name: agent_channels agent_channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_channels
    ADD CONSTRAINT agent_channels_pkey PRIMARY KEY (channel_id);


--
-- Name: agent_escrows agent_escrows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_escrows
    ADD CONSTRAINT agent_escrows_pkey PRIMARY KEY (address);


--
-- Name: agent_events agent_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_events
    ADD CONSTRAINT agent_events_pkey PRIMARY KEY (id);


--
-- Name: agent_meta agent_meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_meta
    ADD CONSTRAINT agent_meta_pkey PRIMARY KEY (key);


--
-- Name: agent_payouts agent_payouts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_payouts
    ADD CONSTRAINT agent_payouts_pkey PRIMARY KEY (escrow);


--
-- Name: ix_agent_escrows_channel_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_agent_escrows_channel_id ON public.agent_escrows USING btree (channel_id);


--
-- Name: ix_agent_events_channel_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_agent_events_channel_id ON public.agent_events USING btree (channel_id);


--
-- Name: ix_agent_payouts_channel_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_agent_payouts_channel_id ON public.agent_payouts USING btree (channel_id);


--
-- PostgreSQL database dump complete
--

\unrestrict QDcWKkMB75iP7h4XLdid1tvmjUrpEHV28L2aSGB0oAG2PPbA68Vpm2V2DlSORO1

