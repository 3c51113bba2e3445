--
-- PostgreSQL database dump
--

\restrict pvCWVQhWG6Pig3xEBQSz7BoTgkscAL1ADuHQkbm22ahxPo5VTkgVEjOEcdDSKkW

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
-- Name: grid_audit_outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_audit_outbox (
    id integer NOT NULL,
    no character varying(200) NOT NULL,
    kind character varying(16) NOT NULL,
    ref bigint NOT NULL,
    document text NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    attempted_at double precision,
    last_error character varying(300),
    ledger_id integer,
    seq_no integer,
    created_at double precision NOT NULL,
    sent_at double precision
);


--
-- Name: grid_audit_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_audit_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_audit_outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_audit_outbox_id_seq OWNED BY public.grid_audit_outbox.id;


--
-- Name: grid_consumer_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_consumer_usage (
    consumer_id character varying(256) NOT NULL,
    slice_start bigint NOT NULL,
    slice_end bigint NOT NULL,
    usage double precision NOT NULL,
    request_id integer,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: grid_payment_requests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_payment_requests (
    id integer NOT NULL,
    consumer_id character varying(256) NOT NULL,
    slice_start bigint NOT NULL,
    usage double precision NOT NULL,
    billed_total double precision NOT NULL,
    amount bigint NOT NULL,
    paid bigint NOT NULL,
    owed bigint NOT NULL,
    address character varying(81) NOT NULL,
    outbox_id integer,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: grid_payment_requests_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_payment_requests_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_payment_requests_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_payment_requests_id_seq OWNED BY public.grid_payment_requests.id;


--
-- Name: grid_payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_payments (
    id integer NOT NULL,
    bundle character varying(81) NOT NULL,
    address character varying(81) NOT NULL,
    tx_hash character varying(81) NOT NULL,
    consumer_id character varying(256) NOT NULL,
    value bigint NOT NULL,
    confirmed boolean NOT NULL,
    cut bigint NOT NULL,
    seen_at timestamp with time zone NOT NULL,
    confirmed_at timestamp with time zone
);


--
-- Name: grid_payments_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_payments_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_payments_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_payments_id_seq OWNED BY public.grid_payments.id;


--
-- Name: grid_payouts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_payouts (
    id integer NOT NULL,
    payment_id integer,
    producer_id character varying(256) NOT NULL,
    amount bigint NOT NULL,
    status character varying(16) NOT NULL,
    address character varying(81),
    tail_hash character varying(81),
    attempts integer NOT NULL,
    last_error character varying(300),
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone
);


--
-- Name: grid_payouts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_payouts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_payouts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_payouts_id_seq OWNED BY public.grid_payouts.id;


--
-- Name: grid_producer_slices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_producer_slices (
    producer_id character varying(256) NOT NULL,
    slice_start bigint NOT NULL,
    slice_end bigint NOT NULL,
    output double precision NOT NULL,
    price double precision,
    payment_address character varying(256),
    received_at timestamp with time zone NOT NULL
);


--
-- Name: grid_slice_prices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_slice_prices (
    slice_start bigint NOT NULL,
    slice_end bigint NOT NULL,
    price double precision NOT NULL,
    method character varying(16) NOT NULL,
    output double precision NOT NULL,
    usage double precision NOT NULL,
    requests integer NOT NULL,
    settled_at timestamp with time zone NOT NULL
);


--
-- Name: grid_slice_prices_slice_start_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_slice_prices_slice_start_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_slice_prices_slice_start_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_slice_prices_slice_start_seq OWNED BY public.grid_slice_prices.slice_start;


--
-- Name: grid_storage_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_storage_items (
    registration_id character varying(256) NOT NULL,
    context character varying(1024) NOT NULL,
    item_id character varying(1024) NOT NULL,
    body text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: grid_waiting_money; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grid_waiting_money (
    id integer NOT NULL,
    payment_id integer NOT NULL,
    amount bigint NOT NULL,
    assigned boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: grid_waiting_money_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.grid_waiting_money_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: grid_waiting_money_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.grid_waiting_money_id_seq OWNED BY public.grid_waiting_money.id;


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
-- Name: energy_channel_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox ALTER COLUMN id SET DEFAULT nextval('public.energy_channel_outbox_id_seq'::regclass);


--
-- Name: grid_audit_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_audit_outbox ALTER COLUMN id SET DEFAULT nextval('public.grid_audit_outbox_id_seq'::regclass);


--
-- Name: grid_payment_requests id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payment_requests ALTER COLUMN id SET DEFAULT nextval('public.grid_payment_requests_id_seq'::regclass);


--
-- Name: grid_payments id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payments ALTER COLUMN id SET DEFAULT nextval('public.grid_payments_id_seq'::regclass);


--
-- Name: grid_payouts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payouts ALTER COLUMN id SET DEFAULT nextval('public.grid_payouts_id_seq'::regclass);


--
-- Name: grid_slice_prices slice_start; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_slice_prices ALTER COLUMN slice_start SET DEFAULT nextval('public.grid_slice_prices_slice_start_seq'::regclass);


--
-- Name: grid_waiting_money id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_waiting_money ALTER COLUMN id SET DEFAULT nextval('public.grid_waiting_money_id_seq'::regclass);


--
-- Name: wallet_sends id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends ALTER COLUMN id SET DEFAULT nextval('public.wallet_sends_id_seq'::regclass);


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
-- Data for Name: grid_audit_outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_audit_outbox VALUES (1, 'no-1', 'kind-1', 1, 'document of row 1', 'attached', 1, 1796640060, 'last_error-1', 1, 1, 1796640060, 1796640060);
INSERT INTO public.grid_audit_outbox VALUES (2, 'no-2', 'kind-2', 2, 'document of row 2', 'signed', 2, 1796640120, 'last_error-2', 2, 2, 1796640120, 1796640120);
INSERT INTO public.grid_audit_outbox VALUES (3, 'no-3', 'kind-3', 3, 'document of row 3', 'settled', 3, 1796640180, 'last_error-3', 3, 3, 1796640180, 1796640180);


--
-- Data for Name: grid_consumer_usage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_consumer_usage VALUES ('consumer_id-1', 1, 1, 1.25, 1, '2026-12-07 12:01:00+00');
INSERT INTO public.grid_consumer_usage VALUES ('consumer_id-2', 2, 2, 2.5, 2, '2026-12-07 12:02:00+00');
INSERT INTO public.grid_consumer_usage VALUES ('consumer_id-3', 3, 3, 3.75, 3, '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_payment_requests; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_payment_requests VALUES (1, 'consumer_id-1', 1, 1.25, 1.25, 1000, 1, 1000, 'M9MOEODWRWKRMKZNJFAFQLIZWRKGQNSSNAFGBLXVTGNGBJAQJFAKNPXVPNFM9AMXZEAKPYTZNRKGH9TD9', 1, '2026-12-07 12:01:00+00');
INSERT INTO public.grid_payment_requests VALUES (2, 'consumer_id-2', 2, 2.5, 2.5, 2000, 2, 2000, 'JGBBIQUTBYQOARMACAQXZXIXX9WSQQVVCYXOKFWFLJIEGFHLDOVHDKFBRKM99DEI9MPABVWUMMOUQ9DRH', 2, '2026-12-07 12:02:00+00');
INSERT INTO public.grid_payment_requests VALUES (3, 'consumer_id-3', 3, 3.75, 3.75, 3000, 3, 3000, 'DW9KRBJVKPSBTHLDESJDYDB9IVMIPJMALYPMUICQXKRMWERZGU9FSJWXTCMKZGAWWWCSHBJMBXTVYKLLV', 3, '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_payments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_payments VALUES (1, 'RMFDPGQRIYDEUHFKIJDZCCPOHAPXTSFX9RGAFDBJHQ9CKGKBOFLWBLSDJIXGGEDICWWSWFL9XYGDFYDVI', 'IOROBYZLFSCLBAREH9J9HBWEADYGJVZKSCAVZEJUNLMACSAEJICIRKKT9YV9RHKEJGZCTICTVOHPAOXCH', 'JLOOFBTGQWVHTRK99SB9MNTBCNUIFPICUNWEDERFTOHXSSTGCQKKUYYDLO9KATFUEZPRJODZ9BLKFJBMB', 'consumer_id-1', 1000, false, 1, '2026-12-07 12:01:00+00', '2026-12-07 12:01:00+00');
INSERT INTO public.grid_payments VALUES (2, 'YUYTZSIZDTEOYQXJIWUYYTWEFWKEKOTFVCNXQHOAQSSXECNKHCPLBDMXWAMMV9TFGZAYUMSYKSEMVHANJ', 'WOERFRDTQNDZGREAXNUBLUUWTMWQQGLYQQDZZVMKLVXBAKCDUECSVDEDNIRTGUCLTOMNZRZAMGUKLGPRS', 'FBPC9ISRUTRXHLIG9TFFCLYXKRYXUMCTREWMQCTDPEEMDBEQEPEJPTJZKCPPSHFXESGOUCEICHKGGMLXW', 'consumer_id-2', 2000, true, 2, '2026-12-07 12:02:00+00', '2026-12-07 12:02:00+00');
INSERT INTO public.grid_payments VALUES (3, 'EAYRB9U9HHVYSBEQJWIMHUFAAZRLTZEHWD9PZKCGBRYLODBICCGN9HPMAXIQ99OWHJRYYXLOKTPYPQBLH', 'CP9EBCNRJDEG9HCRLNORCXDZJOWU9POBCYKMAWHUOFRLQOHRNJDIEC9EEZXUHEZEBBKF9RLYMCOKHJLMW', 'QWX9APDGNHPPQGMPFJEWCQNZHPCYVNNXAKNRSCRZIXUVMICVHHZLXFGSNLJLSSK9FLELSVVATIZBJKMVV', 'consumer_id-3', 3000, false, 3, '2026-12-07 12:03:00+00', '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_payouts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_payouts VALUES (1, 1, 'producer_id-1', 1000, 'attached', 'NZIRGXJXVHIWVLAKIIBWADGWZXLLZV9OWYVP9PMGLWJPA9VYQZ9EWRN9XHEOESQVHCOUWUTFVCSG9WTNB', 'BCFBDAEBUZVQKYSKFZEEUILTSSUPVNSBWTTABGDWUJUCXRYVDBHCGRPGKPGNQHFLVLITMEFJPBJUTXWGA', 1, 'last_error-1', '2026-12-07 12:01:00+00', '2026-12-07 12:01:00+00');
INSERT INTO public.grid_payouts VALUES (2, 2, 'producer_id-2', 2000, 'signed', 'YODPSCAUVMEZXEJZBXAEGPMGIFZNG9AULTGIPOHKLMGACW9HYKSI9TJPQWFXROJJEH9IELZYQBNWDVKNG', 'S9JGFQOLTYMDTQCBKYZQXVTJJA9YPXZITCH9LT9P9TUTBMPBRTFBIGSZABZDBHICOGRRBKMETBWIISQHD', 2, 'last_error-2', '2026-12-07 12:02:00+00', '2026-12-07 12:02:00+00');
INSERT INTO public.grid_payouts VALUES (3, 3, 'producer_id-3', 3000, 'settled', 'UHT9MJFZSAZGHKDQMLDYUFDAVVZQMEVAPJFIGPQCILSLYXWGKSODMMGHETPCAPQDVRPUVZMDXX9RCHHRV', 'FUUFVBFWYNYECAAZDRHUJQDKDTZRFRXSFCERILZVHFGSCRSQ99DVSN9RTZZHFKFWWJJVUGIN9VZKA9HFS', 3, 'last_error-3', '2026-12-07 12:03:00+00', '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_producer_slices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_producer_slices VALUES ('producer_id-1', 1, 1, 1.25, 1.25, 'TQMTXZYRTDDUPQRC9GWWKNUHGCPPICHLLGIQCVDHO9YBBQDDUCMEXHIH9VMDWOCNWBHPVDKQXOBVTRZ9B', '2026-12-07 12:01:00+00');
INSERT INTO public.grid_producer_slices VALUES ('producer_id-2', 2, 2, 2.5, 2.5, 'WRRGHGU9ROCFVVHAAYRBJFHTOYLWZROWUQTBWAGUTJTDTXIPLZHMFHDTGNXLCBWKVUPVUYSMG9NGQQD9N', '2026-12-07 12:02:00+00');
INSERT INTO public.grid_producer_slices VALUES ('producer_id-3', 3, 3, 3.75, 3.75, 'RJPCGGBZGYUETFIZPLRLHWBXJHCMZBMJOFBJIOH9GCQVHG9UYYXUJNWFJ9CLWNOMHTIGABCEC9RJYJ9WB', '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_slice_prices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_slice_prices VALUES (1, 1, 1.25, 'method-1', 1.25, 1.25, 1, '2026-12-07 12:01:00+00');
INSERT INTO public.grid_slice_prices VALUES (2, 2, 2.5, 'method-2', 2.5, 2.5, 2, '2026-12-07 12:02:00+00');
INSERT INTO public.grid_slice_prices VALUES (3, 3, 3.75, 'method-3', 3.75, 3.75, 3, '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_storage_items; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_storage_items VALUES ('registration_id-1', 'context-1', 'item_id-1', '{"row": 1, "table": "grid_storage_items"}', '2026-12-07 12:01:00+00');
INSERT INTO public.grid_storage_items VALUES ('registration_id-2', 'context-2', 'item_id-2', '{"row": 2, "table": "grid_storage_items"}', '2026-12-07 12:02:00+00');
INSERT INTO public.grid_storage_items VALUES ('registration_id-3', 'context-3', 'item_id-3', '{"row": 3, "table": "grid_storage_items"}', '2026-12-07 12:03:00+00');


--
-- Data for Name: grid_waiting_money; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.grid_waiting_money VALUES (1, 1, 1000, false, '2026-12-07 12:01:00+00');
INSERT INTO public.grid_waiting_money VALUES (2, 2, 2000, true, '2026-12-07 12:02:00+00');
INSERT INTO public.grid_waiting_money VALUES (3, 3, 3000, false, '2026-12-07 12:03:00+00');


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
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.energy_channel_outbox_id_seq', 1, false);


--
-- Name: grid_audit_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_audit_outbox_id_seq', 1, false);


--
-- Name: grid_payment_requests_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_payment_requests_id_seq', 1, false);


--
-- Name: grid_payments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_payments_id_seq', 1, false);


--
-- Name: grid_payouts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_payouts_id_seq', 1, false);


--
-- Name: grid_slice_prices_slice_start_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_slice_prices_slice_start_seq', 1, false);


--
-- Name: grid_waiting_money_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.grid_waiting_money_id_seq', 1, false);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.wallet_sends_id_seq', 1, false);


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
-- Name: grid_audit_outbox grid_audit_outbox_no_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_audit_outbox
    ADD CONSTRAINT grid_audit_outbox_no_key UNIQUE (no);


--
-- Name: grid_audit_outbox grid_audit_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_audit_outbox
    ADD CONSTRAINT grid_audit_outbox_pkey PRIMARY KEY (id);


--
-- Name: grid_consumer_usage grid_consumer_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_consumer_usage
    ADD CONSTRAINT grid_consumer_usage_pkey PRIMARY KEY (consumer_id, slice_start);


--
-- Name: grid_payment_requests grid_payment_requests_address_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payment_requests
    ADD CONSTRAINT grid_payment_requests_address_key UNIQUE (address);


--
-- Name: grid_payment_requests grid_payment_requests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payment_requests
    ADD CONSTRAINT grid_payment_requests_pkey PRIMARY KEY (id);


--
-- Name: grid_payments grid_payments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payments
    ADD CONSTRAINT grid_payments_pkey PRIMARY KEY (id);


--
-- Name: grid_payouts grid_payouts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_payouts
    ADD CONSTRAINT grid_payouts_pkey PRIMARY KEY (id);


--
-- Name: grid_producer_slices grid_producer_slices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_producer_slices
    ADD CONSTRAINT grid_producer_slices_pkey PRIMARY KEY (producer_id, slice_start);


--
-- Name: grid_slice_prices grid_slice_prices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_slice_prices
    ADD CONSTRAINT grid_slice_prices_pkey PRIMARY KEY (slice_start);


--
-- Name: grid_storage_items grid_storage_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_storage_items
    ADD CONSTRAINT grid_storage_items_pkey PRIMARY KEY (registration_id, context, item_id);


--
-- Name: grid_waiting_money grid_waiting_money_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grid_waiting_money
    ADD CONSTRAINT grid_waiting_money_pkey PRIMARY KEY (id);


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
-- Name: ix_energy_channel_outbox_attached; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_attached ON public.energy_channel_outbox USING btree (attached);


--
-- Name: ix_energy_channel_outbox_channel; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_channel ON public.energy_channel_outbox USING btree (channel);


--
-- Name: ix_grid_audit_outbox_seq_no; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_audit_outbox_seq_no ON public.grid_audit_outbox USING btree (seq_no);


--
-- Name: ix_grid_audit_outbox_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_audit_outbox_status ON public.grid_audit_outbox USING btree (status);


--
-- Name: ix_grid_consumer_usage_request_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_consumer_usage_request_id ON public.grid_consumer_usage USING btree (request_id);


--
-- Name: ix_grid_payment_requests_consumer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payment_requests_consumer_id ON public.grid_payment_requests USING btree (consumer_id);


--
-- Name: ix_grid_payments_confirmed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payments_confirmed ON public.grid_payments USING btree (confirmed);


--
-- Name: ix_grid_payments_consumer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payments_consumer_id ON public.grid_payments USING btree (consumer_id);


--
-- Name: ix_grid_payouts_payment_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payouts_payment_id ON public.grid_payouts USING btree (payment_id);


--
-- Name: ix_grid_payouts_producer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payouts_producer_id ON public.grid_payouts USING btree (producer_id);


--
-- Name: ix_grid_payouts_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_payouts_status ON public.grid_payouts USING btree (status);


--
-- Name: ix_grid_producer_slices_start; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_producer_slices_start ON public.grid_producer_slices USING btree (slice_start);


--
-- Name: ix_grid_waiting_money_assigned; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_waiting_money_assigned ON public.grid_waiting_money USING btree (assigned);


--
-- Name: ix_grid_waiting_money_payment_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_grid_waiting_money_payment_id ON public.grid_waiting_money USING btree (payment_id);


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
-- Name: ux_grid_audit_outbox_kind_ref; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ux_grid_audit_outbox_kind_ref ON public.grid_audit_outbox USING btree (kind, ref);


--
-- Name: ux_grid_payments_bundle_address; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ux_grid_payments_bundle_address ON public.grid_payments USING btree (bundle, address);


--
-- Name: energy_channel_outbox energy_channel_outbox_channel_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox
    ADD CONSTRAINT energy_channel_outbox_channel_fkey FOREIGN KEY (channel) REFERENCES public.energy_owned_channels(name);


--
-- PostgreSQL database dump complete
--

\unrestrict pvCWVQhWG6Pig3xEBQSz7BoTgkscAL1ADuHQkbm22ahxPo5VTkgVEjOEcdDSKkW

