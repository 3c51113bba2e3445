--
-- PostgreSQL database dump
--

\restrict t9mYlRkSOQnnUSubKycdTsQxohpnO49shWj06TLBUFab04Qg2mzd1RgujvPegMj

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
-- Name: mam_channel_positions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mam_channel_positions (
    fingerprint character varying(81) NOT NULL,
    security integer NOT NULL,
    start integer NOT NULL,
    count integer NOT NULL,
    next_count integer NOT NULL,
    leaf_index integer NOT NULL,
    next_root character varying(81),
    updated_at timestamp with time zone NOT NULL
);


--
-- Data for Name: mam_channel_positions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.mam_channel_positions VALUES ('HAZTMSXBLBSHVJSRWDUFMDS9S9VQSWACPSP9YQQFXQBKMRAINAOSXHWDJVAGAHKA9NOSFGLLYGFDCLKRH', 1, 1, 1, 1, 0, 'YFDREHJTXMXEUQTAYEOCXCF9TNTRLLJAEK9UVVJ9WARFFYNMTMECEAMPCKPGJRPENJOMAZDCDLRUETMLE', '2026-12-07 12:01:00+00');
INSERT INTO public.mam_channel_positions VALUES ('TGOCOJLHARJCXHHTBBVGHLJMKFABMAUYYDKDAHHVODTZCEEENDNVUIIIJRATQEGTY9EVZWUBTGWC9QIFK', 2, 2, 2, 2, 1, 'SQWGYYL9AJVVQVAE9LPAQOXWLUOJEOXHNLYQUK9W9YGEI9VDDDTYAHUHXUTQOAOUOXMNXUVXFAFVF9KNS', '2026-12-07 12:02:00+00');
INSERT INTO public.mam_channel_positions VALUES ('WBUIAQCE9ETNMIEPTYWRCBGCJDXIHWBGTANUGUQBXYWDTHV9ZFYLHHSYT9JGSEEYD9UMRVWC9JOJJFKRZ', 3, 3, 3, 3, 2, 'BUDE9IYVROUOIVZOQLVCGO9LREWDKWHABTZKOH9MBBVGSGF9OPHYKBYRNIRFPAODELHLXRSSWGV9BLMF9', '2026-12-07 12:03:00+00');


--
-- Name: mam_channel_positions mam_channel_positions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mam_channel_positions
    ADD CONSTRAINT mam_channel_positions_pkey PRIMARY KEY (fingerprint);


--
-- PostgreSQL database dump complete
--

\unrestrict t9mYlRkSOQnnUSubKycdTsQxohpnO49shWj06TLBUFab04Qg2mzd1RgujvPegMj

