--
-- PostgreSQL database dump
--

\restrict Tgg0bgei9U1QdKkAeanPSzuXD9WwL5ydVCwk4KdrSIGNAczq1sP94LY9apEQ5tp

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
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id integer NOT NULL,
    username character varying(64) NOT NULL,
    password_hash character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: accounts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.accounts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: accounts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.accounts_id_seq OWNED BY public.accounts.id;


--
-- Name: checkouts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.checkouts (
    tool_id integer NOT NULL,
    account_id integer NOT NULL,
    checked_out_at timestamp with time zone NOT NULL,
    request_id character varying(64) NOT NULL
);


--
-- Name: circle_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.circle_members (
    circle_id integer NOT NULL,
    account_id integer NOT NULL
);


--
-- Name: circles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.circles (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    description text NOT NULL
);


--
-- Name: circles_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.circles_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: circles_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.circles_id_seq OWNED BY public.circles.id;


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    kind character varying(32) NOT NULL,
    account_id integer,
    tool_id integer,
    request_id character varying(64),
    detail text NOT NULL
);


--
-- Name: events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: events_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.events_id_seq OWNED BY public.events.id;


--
-- Name: memberships; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.memberships (
    id integer NOT NULL,
    account_id integer NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL
);


--
-- Name: memberships_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.memberships_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: memberships_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.memberships_id_seq OWNED BY public.memberships.id;


--
-- Name: tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tokens (
    token_hash character varying(64) NOT NULL,
    account_id integer NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: tools; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tools (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    description text NOT NULL,
    device_id character varying(32) NOT NULL,
    lock_index integer NOT NULL,
    circle_id integer
);


--
-- Name: tools_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tools_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tools_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tools_id_seq OWNED BY public.tools.id;


--
-- Name: accounts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts ALTER COLUMN id SET DEFAULT nextval('public.accounts_id_seq'::regclass);


--
-- Name: circles id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circles ALTER COLUMN id SET DEFAULT nextval('public.circles_id_seq'::regclass);


--
-- Name: events id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events ALTER COLUMN id SET DEFAULT nextval('public.events_id_seq'::regclass);


--
-- Name: memberships id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships ALTER COLUMN id SET DEFAULT nextval('public.memberships_id_seq'::regclass);


--
-- Name: tools id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tools ALTER COLUMN id SET DEFAULT nextval('public.tools_id_seq'::regclass);


--
-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.accounts VALUES (1, 'username-1', 'KXOFGILSXXDXUJNEDDQADICCORFXHV9KYTUANVALLV9RW9SKMXKWXQSFTSN9UYRWWHEATIFMB9MDLOCAX', '2026-12-07 12:01:00+00');
INSERT INTO public.accounts VALUES (2, 'username-2', 'YRWALSJLT9AKO9VTNRZECAKYSSZD9ETNQCBFBUACHKRCB9YMVEYFIGDVXEJMRDTWA9YBOLVUR9BIJMHWL', '2026-12-07 12:02:00+00');
INSERT INTO public.accounts VALUES (3, 'username-3', 'FAZRFNJVWCKUHHIKSBHORTNXFHLERVF9XIS9CXWWELBHD9YBXYPNVL9NJBYIVTRCAVVEENOFENOFKRVYF', '2026-12-07 12:03:00+00');


--
-- Data for Name: checkouts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.checkouts VALUES (1, 1, '2026-12-07 12:01:00+00', 'request_id-1');
INSERT INTO public.checkouts VALUES (2, 2, '2026-12-07 12:02:00+00', 'request_id-2');
INSERT INTO public.checkouts VALUES (3, 3, '2026-12-07 12:03:00+00', 'request_id-3');


--
-- Data for Name: circle_members; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.circle_members VALUES (1, 1);
INSERT INTO public.circle_members VALUES (2, 2);
INSERT INTO public.circle_members VALUES (3, 3);


--
-- Data for Name: circles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.circles VALUES (1, 'name-1', 'description of row 1');
INSERT INTO public.circles VALUES (2, 'name-2', 'description of row 2');
INSERT INTO public.circles VALUES (3, 'name-3', 'description of row 3');


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (1, '2026-12-07 12:01:00+00', 'kind-1', 1, 1, 'request_id-1', 'detail of row 1');
INSERT INTO public.events VALUES (2, '2026-12-07 12:02:00+00', 'kind-2', 2, 2, 'request_id-2', 'detail of row 2');
INSERT INTO public.events VALUES (3, '2026-12-07 12:03:00+00', 'kind-3', 3, 3, 'request_id-3', 'detail of row 3');


--
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.memberships VALUES (1, 1, '2026-12-07 12:01:00+00', '2026-12-07 12:01:00+00');
INSERT INTO public.memberships VALUES (2, 2, '2026-12-07 12:02:00+00', '2026-12-07 12:02:00+00');
INSERT INTO public.memberships VALUES (3, 3, '2026-12-07 12:03:00+00', '2026-12-07 12:03:00+00');


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tokens VALUES ('VHBPCFQVDNIPEUKNVVVPZXQFTKHHQXZALTJIDYGHTZNOBZBNFATXOMFTVLYWIJEO', 1, '2026-12-07 12:01:00+00');
INSERT INTO public.tokens VALUES ('UIKLNJXK99D9GTQVXREOEVFKCFNBXXXZHQFHZHWWYUQKVKLEISKSSJDISCRYUDIC', 2, '2026-12-07 12:02:00+00');
INSERT INTO public.tokens VALUES ('UXJGNKTVNCYFUGOVEHMUFAMWFUWKNIPMPCJOJZK9KCAJSXLZBXSKUINPWHNBIUCI', 3, '2026-12-07 12:03:00+00');


--
-- Data for Name: tools; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tools VALUES (1, 'name-1', 'description of row 1', 'device_id-1', 0, 1);
INSERT INTO public.tools VALUES (2, 'name-2', 'description of row 2', 'device_id-2', 1, 2);
INSERT INTO public.tools VALUES (3, 'name-3', 'description of row 3', 'device_id-3', 2, 3);


--
-- Name: accounts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.accounts_id_seq', 1, false);


--
-- Name: circles_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.circles_id_seq', 1, false);


--
-- Name: events_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.events_id_seq', 1, false);


--
-- Name: memberships_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.memberships_id_seq', 1, false);


--
-- Name: tools_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tools_id_seq', 1, false);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: accounts accounts_username_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_username_key UNIQUE (username);


--
-- Name: checkouts checkouts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.checkouts
    ADD CONSTRAINT checkouts_pkey PRIMARY KEY (tool_id);


--
-- Name: circle_members circle_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circle_members
    ADD CONSTRAINT circle_members_pkey PRIMARY KEY (circle_id, account_id);


--
-- Name: circles circles_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circles
    ADD CONSTRAINT circles_name_key UNIQUE (name);


--
-- Name: circles circles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circles
    ADD CONSTRAINT circles_pkey PRIMARY KEY (id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);


--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (id);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: tools tools_device_id_lock_index_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tools
    ADD CONSTRAINT tools_device_id_lock_index_key UNIQUE (device_id, lock_index);


--
-- Name: tools tools_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tools
    ADD CONSTRAINT tools_name_key UNIQUE (name);


--
-- Name: tools tools_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tools
    ADD CONSTRAINT tools_pkey PRIMARY KEY (id);


--
-- Name: ix_events_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_events_at ON public.events USING btree (at);


--
-- Name: ix_memberships_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_memberships_account_id ON public.memberships USING btree (account_id);


--
-- Name: checkouts checkouts_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.checkouts
    ADD CONSTRAINT checkouts_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: checkouts checkouts_tool_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.checkouts
    ADD CONSTRAINT checkouts_tool_id_fkey FOREIGN KEY (tool_id) REFERENCES public.tools(id);


--
-- Name: circle_members circle_members_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circle_members
    ADD CONSTRAINT circle_members_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: circle_members circle_members_circle_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.circle_members
    ADD CONSTRAINT circle_members_circle_id_fkey FOREIGN KEY (circle_id) REFERENCES public.circles(id);


--
-- Name: events events_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: events events_tool_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_tool_id_fkey FOREIGN KEY (tool_id) REFERENCES public.tools(id);


--
-- Name: memberships memberships_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: tokens tokens_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);


--
-- Name: tools tools_circle_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tools
    ADD CONSTRAINT tools_circle_id_fkey FOREIGN KEY (circle_id) REFERENCES public.circles(id);


--
-- PostgreSQL database dump complete
--

\unrestrict Tgg0bgei9U1QdKkAeanPSzuXD9WwL5ydVCwk4KdrSIGNAczq1sP94LY9apEQ5tp

