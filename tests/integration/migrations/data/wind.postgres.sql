--
-- PostgreSQL database dump
--

\restrict nwihr3iNaqb4huIbYK5dW2jRA0Mi6W3SKJUaZASACm1Rk95XTGmhtYgDm54nXMO

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
-- Name: channel_energy_payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_energy_payments (
    order_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    channel_id character varying(64) NOT NULL
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
-- Name: energy_channel_outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_channel_outbox (
    id integer NOT NULL,
    channel character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    address character varying(81) NOT NULL,
    next_root character varying(81) NOT NULL,
    payload text NOT NULL,
    attached boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.energy_channel_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.energy_channel_outbox_id_seq OWNED BY public.energy_channel_outbox.id;


--
-- Name: energy_owned_channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_owned_channels (
    name character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    side_key character varying(81) NOT NULL,
    seed character varying(81) NOT NULL,
    start integer NOT NULL,
    leaf_index integer NOT NULL,
    next_root character varying(81),
    published integer NOT NULL,
    closed boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_participant; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_participant (
    channel character varying(64) NOT NULL,
    registration_id character varying(256) NOT NULL,
    last_slice_end bigint,
    slices_published integer NOT NULL,
    registered_at timestamp with time zone,
    retired boolean NOT NULL,
    answer_root character varying(81),
    answer_side_key character varying(81),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_reader_positions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_reader_positions (
    registration_id character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    side_key character varying(81),
    next_root character varying(81) NOT NULL,
    messages_read integer NOT NULL,
    skipped integer NOT NULL,
    closed boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: energy_registrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_registrations (
    registration_id character varying(256) NOT NULL,
    item_name character varying(256) NOT NULL,
    item_type character varying(64) NOT NULL,
    root character varying(81),
    side_key character varying(81),
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: energy_source_outputs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_source_outputs (
    start_time bigint NOT NULL,
    end_time bigint NOT NULL,
    output double precision NOT NULL,
    sequence integer NOT NULL
);


--
-- Name: energy_source_outputs_start_time_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.energy_source_outputs_start_time_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: energy_source_outputs_start_time_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.energy_source_outputs_start_time_seq OWNED BY public.energy_source_outputs.start_time;


--
-- Name: machine_orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.machine_orders (
    seq integer NOT NULL,
    id character varying(64) NOT NULL,
    kind character varying(16) NOT NULL,
    product character varying(64) NOT NULL,
    customer character varying(64),
    price bigint NOT NULL,
    address character varying(81) NOT NULL,
    state character varying(32) NOT NULL,
    message character varying(300) NOT NULL,
    created_at double precision NOT NULL,
    deadline double precision,
    paid_at double precision,
    finished_at double precision,
    payout_address character varying(81),
    payout_value bigint,
    payout_started boolean NOT NULL,
    payout_tail character varying(81)
);


--
-- Name: machine_orders_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.machine_orders_seq_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: machine_orders_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.machine_orders_seq_seq OWNED BY public.machine_orders.seq;


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
-- Name: energy_channel_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox ALTER COLUMN id SET DEFAULT nextval('public.energy_channel_outbox_id_seq'::regclass);


--
-- Name: energy_source_outputs start_time; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_source_outputs ALTER COLUMN start_time SET DEFAULT nextval('public.energy_source_outputs_start_time_seq'::regclass);


--
-- Name: machine_orders seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.machine_orders ALTER COLUMN seq SET DEFAULT nextval('public.machine_orders_seq_seq'::regclass);


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
-- Data for Name: channel_energy_payments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_energy_payments VALUES ('order_id-1', 1000, 'channel_id-1');
INSERT INTO public.channel_energy_payments VALUES ('order_id-2', 2000, 'channel_id-2');
INSERT INTO public.channel_energy_payments VALUES ('order_id-3', 3000, 'channel_id-3');


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
-- Data for Name: energy_channel_outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_channel_outbox VALUES (1, 'name-1', 'GGYUSJN9WXBBP9BH9KDHFOLMOOV9KIEBASXOMPKWXOMVNUIVT9BRKJYLPFRBDDEBPVA9DFPQKCWACZPHM', 'OKIS9RVZZYLUUKGSMADUMTBRFCBRHKHBLCWWUH9EFBNE9Z9LJZRLKOETKLDWZXIJLQPGWV9TAYVPAHKYM', 'CMZNANFWDYQBINOIYFZBYLTCAPYSBJHJKFHTPDUNBJGFQECFDWQZVPCCRLEIVPOMDCNBFBOWXABZFWQUI', '{"row": 1, "table": "energy_channel_outbox"}', false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_channel_outbox VALUES (2, 'name-2', 'PGN9BYF9NPOOVEJMPHRVBDZMVIIEAAFNQHDUQSTW99ZJODNQCLDEGEPS9EMDXJTRZTZTU9YSVOWUKMOHX', 'CLA9TJJESNPDJYHMPXHBBRXAMLYFCBNCKASVSC9ZVISHVDXCIFSJABTOFHBFVRASTZJXZMXK9RHRBGIGB', 'T9ZAIAKVHXQHMLTKTGKFFZEQT9SZKLFMFLQFCLQWSQBQJEZXMGJYWL9KEVFKNQ9WNJYMDSEYBHQXFADZ9', '{"row": 2, "table": "energy_channel_outbox"}', true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_channel_outbox VALUES (3, 'name-3', 'PCZUPBVIDVECMMNHJQJPEETEZYQSTGAEPXMJKCQTBXPFKJENDMMNNYYNCWJUJRXMKTTJQBXCNHFCUXRRE', 'ZI9GKDBWJQGFBVVTRNFUYXVCKO9WWUDFTGTOIMAWTLKZOPGWNWZFSYTTZKTPKMGEJYWUGZFSAUJBMQOLY', 'RZLXQVMZDJFDM9VWA9BDMJEDICKFAIADASIG9FLGNRIBFXIVMROXDGSXHGHLEGW9EZUFEGFUMDJGDNGTE', '{"row": 3, "table": "energy_channel_outbox"}', false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_owned_channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_owned_channels VALUES ('name-1', 'FS9EVMKQVJFGAEFF9WVARQSPYVNRBO9OW9AADKHPXOVQJK9MHFFXPJJZJEDFQSAZAZREC9ERURFMPKQZX', 'JETGDBKYUFKMMLIG9IXFGJHZFWRGHVOEDVHISRSTKVHP9GYAKB9MNDGQ9J9SFEDANMUVCVVROW9N9YKUA', 'EPSJXNJNOGNOCII9WQJNV9XVQNINGJHXPIKAGMHXWYJJ9L9ICPBQFHSUOBSMCLPURWPBPSMWXLYGGHTBM', 1, 0, 'FMRKFD9BBJEJFFSDDHDUQY9FACFFNMJXKJCS9LWVUTLBWSEQRSAMJYTBIZFSDLGNLZ9RZVLGELXXXZKTA', 1, false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_owned_channels VALUES ('name-2', 'FCWSHGCWLEEBHQM9I9CUXQCGJAWSLOJC9KZ9NB9PZ9MEIHLHJBSTMQYYSAHGCBDFRFOAHJFBGGSA9QQZH', 'EWLVRKIBCTRJEAZBFXMEHCDOUSMRPSXHZUJLEGM9WZLEQTKDTGOYNAXFBIDJDETR9UHLW9LXMNZWCJTGN', 'NYLSYNLLWSX9NUZNFEOMNKAJNPUGOMRNJIPBMTKXDXDXU9VHYZPMXLGNLFEAJKRJSKVPQEERJJJXTEIW9', 2, 1, 'MYBKXZJTPJWCGBB9VEPOY9JEMARRBUATCJGZZDEBRKATC9ECRDPWNCGYIJNKPJ9ZPTJ9AHXHKLTIGRDWO', 2, true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_owned_channels VALUES ('name-3', 'JWEHLIRQBQWRMWRXZKJGOUQDGWCOUAHXXCVLTBTPYCETRJBMCCRRGMDOAOU9RUTTIHZQYVXKEAINRTFHY', 'NQRHKHQZZHLJGQOEGYMESJVMTYTHMCUVNVVICZLLWQNRDZFTUUVPOCBHYFUHIINRVJHTGPYVDEFTSSJRK', 'ZQR9ZVLCHDQEWBGOFEYEGJVEYJWPYA9ZXVYSGFILGDRYJUCBEJNUKBRVGDVWNLGDBSHWAOJJNZOYUDYAS', 3, 2, 'EFECVIQEPETRRUUQOBNVXKLILLNFPZHAJECUDVOMDZLQGBXFM9HXRGGIPPVRLAQSGAISLXTMFR9AUGWQH', 3, false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_participant; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_participant VALUES ('channel-1', 'registration_id-1', 1, 1, '2026-12-07 12:01:00+00', false, 'PBAOFRCHNAIELPRTXUBUSZUBIO9PLWNDIIADMUNEZABWGBQNTMLHL99GLOVS9QIMTYQRDKMBXT9OVRKBH', 'EVQTSDIWG9HFZQT9KFGRTG9XEWNF9ZYVBGZXIPNAKVOJAZMYRWAABW9KHZCBVMECFYZMWJNDGNIATPMHK', '2026-12-07 12:01:00+00');
INSERT INTO public.energy_participant VALUES ('channel-2', 'registration_id-2', 2, 2, '2026-12-07 12:02:00+00', true, 'HXG9OBOYUABN9OR9CQUMJQMUVUZQXPAKQZBVGEAHYHMBBHFHHPOVP9RLJTMRNDWXFQJWXMHPH9NHJI9BT', 'HUOBXUQHNUYIXODFSIEAFXWOJNXFGRYTAJBQMAPRABNFXABSQKZAMQNKNXYWSZFRSBBGKJZCHPWVN9HNH', '2026-12-07 12:02:00+00');
INSERT INTO public.energy_participant VALUES ('channel-3', 'registration_id-3', 3, 3, '2026-12-07 12:03:00+00', false, 'AIUFHABXQIDHSXQQZQOYXVOAKKPYIPAKWZBPDCZJL9ZYFYQVXMJ9TICTJIJNFJGRFZUGJMPTXOIJBPVUV', 'SRMEUGZJSZMRYEGDLBHBOISCAXMROCVAVGVSIPLYMZHPYSQXJPCTMKUXLGDPJBNLTDCM9PLEAOLPPVQHL', '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_reader_positions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_reader_positions VALUES ('registration_id-1', 'DEARBHDGABAKTCUCO9BCHXHFZGCRIDBAJ9LODK9UVGFCCEENYHXCHCRPRICSLANBDBHQTBBFLAQZLYFTA', 'ULPJPEPMXUGNCCEKERNSDUCFPXCFFPYBINWFXOPWZMCSGSUSHFIFSHVHGACKKOXIUOXIFUSM9N9BQ9TCJ', 'TECHNFGG9ATMMUALUOBKNDMYCPCIKIZMZUVYUDGHRHQSYUIZFWMZKZDXAUSWWYBKWGOPAXKWGSMSF9VG9', 1, 1, false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_reader_positions VALUES ('registration_id-2', 'GFYKRG9OUEPZQYKAKACZ9ZTMEOUBZQUIZJAFBFIKFHKCOHRQBHMVBMBZWHHRWDCHZVQEJDAAIAXEJGQHN', 'LTXBOZRLLNUGBKCYDMDHAUSAMBLXDDFDCDPMEKFVXGIKP9SZPSQJE9ZQEEQBAJDZLIERJPUJANGCAXRML', 'FGZPHTYGKCCEPPOOAVVIBLIRXKNBPQLXRSORMQREDSXFJTPZRJKDMD9PKVPLNP9FLOAEZRRXBTDCATXNB', 2, 2, true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_reader_positions VALUES ('registration_id-3', 'MNOIHOEMSLAFU9KUEAPZEIBPFITNWBK9KFNHWDOUOGYETHHHWVD9SMWEXV9OGIJCZLYDVWGVFOLUCY9KK', 'BGLIJOBDPNDOUGBPZBVIU9UWGLSK9DTIXRKEEKFJKE9OAJ9JDGLUPLUREJSTCCP9ZMSTJERWIW9NHAROY', 'UK9OGPLZCMVEQTEYTJLCUIMOXR9ZK9YSURPMZFGYSLPJXGAHPZOLABTHLP9NNWP9NPIEJM9OXLGFQVKPZ', 3, 3, false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_registrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_registrations VALUES ('registration_id-1', 'item_name-1', 'item_type-1', 'VAXLQCGVMPXCCQNVGFDLUCLBL9VEXZBCEFTTCGOPPPCZENEFEIFHMEZDKQRXVJODSOGWHGFWGQSTWBWJS', 'FAVKYRWTSISFFQ9JUHHWURJJATGAZMACKMLHYBYUGOGTGPWYHKZAJB9NMRFLQRYLPIULTKSMSDELOSSFD', '2026-12-07 12:01:00+00', '2026-12-07 12:01:00+00');
INSERT INTO public.energy_registrations VALUES ('registration_id-2', 'item_name-2', 'item_type-2', 'UJQCLREXDTVZYSIXXVXSXHXHRQXHVAPRSDLFWKZSGRZHFNCEXHZTCRCVAIQLJJHDVSZDCPFP9ANIC9PPB', 'TSTHUIENGLJRKFODTFGHDYMUFXB99TYAHQLKLPRUOZYOC9ABKFAIPYPEEEGWYKYZVNPVGKZSGEOPMBRVP', '2026-12-07 12:02:00+00', '2026-12-07 12:02:00+00');
INSERT INTO public.energy_registrations VALUES ('registration_id-3', 'item_name-3', 'item_type-3', 'MLVDWZIJCHYAMJJ9PXTOMCQGOVEDRIRZSQFJQYWHDOUWKBVEEUEBBFLQRFHNQQTBISAVQCMVXLOAYULNZ', 'CXCCJVQIOWKVXMBJQJAZKVJQGHMPCGDCMDNTOP9JJDEEFCLJIJDGKXZJPAQQHENOGUVXQWXSKBOBXDIKC', '2026-12-07 12:03:00+00', '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_source_outputs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_source_outputs VALUES (1, 1, 1.25, 0);
INSERT INTO public.energy_source_outputs VALUES (2, 2, 2.5, 1);
INSERT INTO public.energy_source_outputs VALUES (3, 3, 3.75, 2);


--
-- Data for Name: machine_orders; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.machine_orders VALUES (1, 'id-1', 'kind-1', 'product-1', 'customer-1', 1, 'LWIUSTIPWESS9NRSSSHEKUAQFQNV9KOAGLB9GKSQVWMGUHJEJSCIIQK99ZRXQUFDAEHDCBOZDPLEKGNEN', 'attached', 'message-1', 1796640060, 1.25, 1796640060, 1796640060, 'DXIEWQT9JBPXMXUMAOXG9QDHNZURFQSGKRKJETEUKDUKESIQFQVRTJLBCWRIFTSMBTEMEIBU9PIHQGZCY', 1000, false, 'GVEIYGFFWIOFMCQSPGBGWSNMDQPHRVRSNADOPBGJJYANXPZEFMFDCFXNGTGTAOTKIDULHULPV9BADXFGB');
INSERT INTO public.machine_orders VALUES (2, 'id-2', 'kind-2', 'product-2', 'customer-2', 2, 'YMSPCNUIB9EWVRNKSMHHMGPKMPMJTWDKZT9VEATCFDCDZPRWAFAHTOZJWDSO9IETSHDRHUPZ9HGQIZLT9', 'signed', 'message-2', 1796640120, 2.5, 1796640120, 1796640120, 'ZJKOIDPBPQYGLAPJKEAG9ZDRKQDMKVVVKZYOFLWSWGKLRDHKLUORM9LJYQIPUYQEZARAQCKBSGSCFXTKD', 2000, true, 'WBWYRPEDSVOCJLOJJK9KOF9QGTWQGDEIHJLOMKUAJGRFQZHLAFYEHFKNOLFAVZPOTBHI9STBQ9NMNXB9Z');
INSERT INTO public.machine_orders VALUES (3, 'id-3', 'kind-3', 'product-3', 'customer-3', 3, 'ZUFVIISTQLEOIAZZYHIJVKJQJL9JYOJZBYOMCHJHSMQPBLSKFNHWQFYVLYMJSIEOFDJCAONXXLKJEJFBL', 'settled', 'message-3', 1796640180, 3.75, 1796640180, 1796640180, 'LEYVEHALYOSZWWLOQHOSIJQDDIDT9DUKNDMXTHJMJDZVMFJKCXPKB9XKNBLQWCBIWRDLBYONHVTNIHIPZ', 3000, false, 'ONKJ9LMCVCAAWF9LGLWLHZNFDTP9CGOTPKXTEYGEMWJDMGKBZIIBSGIYKZAASEBSFCSCNBVHJQFM9XZSA');


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
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.energy_channel_outbox_id_seq', 1, false);


--
-- Name: energy_source_outputs_start_time_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.energy_source_outputs_start_time_seq', 1, false);


--
-- Name: machine_orders_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.machine_orders_seq_seq', 1, false);


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
-- Name: channel_energy_payments channel_energy_payments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_energy_payments
    ADD CONSTRAINT channel_energy_payments_pkey PRIMARY KEY (order_id);


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
-- Name: energy_channel_outbox energy_channel_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox
    ADD CONSTRAINT energy_channel_outbox_pkey PRIMARY KEY (id);


--
-- Name: energy_owned_channels energy_owned_channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_owned_channels
    ADD CONSTRAINT energy_owned_channels_pkey PRIMARY KEY (name);


--
-- Name: energy_participant energy_participant_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_participant
    ADD CONSTRAINT energy_participant_pkey PRIMARY KEY (channel);


--
-- Name: energy_reader_positions energy_reader_positions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_reader_positions
    ADD CONSTRAINT energy_reader_positions_pkey PRIMARY KEY (registration_id);


--
-- Name: energy_registrations energy_registrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_registrations
    ADD CONSTRAINT energy_registrations_pkey PRIMARY KEY (registration_id);


--
-- Name: energy_source_outputs energy_source_outputs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_source_outputs
    ADD CONSTRAINT energy_source_outputs_pkey PRIMARY KEY (start_time);


--
-- Name: machine_orders machine_orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.machine_orders
    ADD CONSTRAINT machine_orders_pkey PRIMARY KEY (seq);


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
-- Name: ix_energy_channel_outbox_attached; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_attached ON public.energy_channel_outbox USING btree (attached);


--
-- Name: ix_energy_channel_outbox_channel; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_channel ON public.energy_channel_outbox USING btree (channel);


--
-- Name: ix_machine_orders_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_machine_orders_id ON public.machine_orders USING btree (id);


--
-- Name: ix_machine_orders_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_machine_orders_state ON public.machine_orders USING btree (state);


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
-- Name: energy_channel_outbox energy_channel_outbox_channel_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox
    ADD CONSTRAINT energy_channel_outbox_channel_fkey FOREIGN KEY (channel) REFERENCES public.energy_owned_channels(name);


--
-- PostgreSQL database dump complete
--

\unrestrict nwihr3iNaqb4huIbYK5dW2jRA0Mi6W3SKJUaZASACm1Rk95XTGmhtYgDm54nXMO

