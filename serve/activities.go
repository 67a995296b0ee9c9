package serve

import (
	"strconv"
	"time"

	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// activityType is an activity type as the API lists it.
type activityType struct {
	ID      int
	Name    string
	Primary string // the primary attribute's name
}

// activityTypes gives each activity type campc writes its id: Marketo's
// standard id where Marketo has the type, and otherwise an id of campc's
// own from 100001 up. The table only ever grows: an id, once given, is
// never changed nor given to another type. A test keeps it complete.
var activityTypeTable = []activityType{
	{1, stdlib.ActVisitWebpage, "Webpage"},
	{2, stdlib.ActFillOutForm, "Webform"},
	{3, stdlib.ActClickLink, "Link"},
	{6, stdlib.ActSendEmail, "Mailing"},
	{7, stdlib.ActEmailDelivered, "Mailing"},
	{8, stdlib.ActEmailBounced, "Mailing"},
	{9, stdlib.ActUnsubscribe, "Mailing"},
	{10, stdlib.ActOpenEmail, "Mailing"},
	{11, stdlib.ActClickEmail, "Mailing"},
	{12, stdlib.ActNewPerson, "Lead"},
	{13, stdlib.ActChangeDataValue, "Attribute Name"},
	{19, stdlib.ActSyncToCRM, "Lead"},
	{22, stdlib.ActChangeScore, "Score Name"},
	{23, stdlib.ActChangeOwner, "Owner"},
	{24, stdlib.ActAddToList, "List"},
	{25, stdlib.ActRemoveFromList, "List"},
	{37, stdlib.ActDeletePerson, "Lead"},
	{38, stdlib.ActSendAlert, "Mailing"},
	{46, stdlib.ActInterestingMoment, "Type"},
	{47, stdlib.ActRequestCampaign, "Campaign"},
	{104, stdlib.ActChangeProgramStatus, "Program"},
	{110, stdlib.ActCallWebhook, "Webhook"},
	// campc's own.
	{100001, stdlib.ActChangePartition, "Partition"},
	{100002, stdlib.ActWait, "Campaign"},
	{100003, stdlib.ActExecutedCampaign, "Campaign"},
	{100004, stdlib.ActRemoveFromFlow, "Campaign"},
	{100005, stdlib.ActCreateTask, "Subject"},
	{100006, stdlib.ActSmartListInvalid, "Campaign"},
	{100007, stdlib.ActWaitDropped, "Campaign"},
	{100008, stdlib.ActSendEmailFailed, "Mailing"},
}

var typeByName = func() map[string]activityType {
	m := map[string]activityType{}
	for _, t := range activityTypeTable {
		m[t.Name] = t
	}
	return m
}()

// activityTypes is GET /rest/v1/activities/types.json.
func activityTypes(c *call) (*reply, error) {
	out := make([]map[string]any, 0, len(activityTypeTable))
	for _, t := range activityTypeTable {
		var attrs []map[string]string
		for _, st := range stdlib.Steps {
			if st.Name == t.Name {
				for _, a := range st.Attributes {
					attrs = append(attrs, map[string]string{"name": a, "dataType": "string"})
				}
			}
		}
		out = append(out, map[string]any{"id": t.ID, "name": t.Name, "description": t.Name,
			"primaryAttribute": map[string]string{"name": t.Primary, "dataType": "string"}, "attributes": attrs})
	}
	return &reply{Result: out}, nil
}

// pagingToken is GET /rest/v1/activities/pagingtoken.json?sinceDatetime:
// a token for the activities at or after that time.
func pagingToken(c *call) (*reply, error) {
	since := c.req.param("sinceDatetime")
	if since == "" {
		return nil, errCode("1003", "sinceDatetime is required")
	}
	t, err := parseSince(since)
	if err != nil {
		return nil, errCode("1001", "Invalid value '%s' for sinceDatetime: an ISO 8601 date or date-time such as 2026-12-01T09:00:00Z", clip(since))
	}
	seq, err := c.tx.FirstSeqSince(t)
	if err != nil {
		return nil, err
	}
	return &reply{NextPageToken: pageToken("act", seq)}, nil
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05Z0700", s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// activities is GET /rest/v1/activities.json: the log after a paging
// token, of the user's workspace, optionally of some types, leads or a
// list's members, paged with moreResult.
func activities(c *call) (*reply, error) {
	tok := c.req.param("nextPageToken")
	if tok == "" {
		return nil, errCode("1003", "nextPageToken is required (GET /rest/v1/activities/pagingtoken.json gives the first)")
	}
	after, aerr := readPageToken("act", tok)
	if aerr != nil {
		return nil, aerr
	}
	size, aerr := c.req.batchSize()
	if aerr != nil {
		return nil, aerr
	}
	types := map[string]bool{}
	tids, aerr := ids("activityTypeIds", c.req.param("activityTypeIds"), 10)
	if aerr != nil {
		return nil, aerr
	}
	for _, id := range tids {
		found := false
		for _, t := range activityTypeTable {
			if int64(t.ID) == id {
				types[t.Name], found = true, true
			}
		}
		if !found {
			return nil, errCode("1003", "activityTypeIds: no activity type has id %d", id)
		}
	}
	leads, aerr := ids("leadIds", c.req.param("leadIds"), 30)
	if aerr != nil {
		return nil, aerr
	}
	var people map[string]bool
	if len(leads) > 0 {
		people = map[string]bool{}
		for _, id := range leads {
			p, err := c.lead(id)
			if err != nil {
				return nil, err
			}
			if p != nil {
				people[p.ID] = true
			}
		}
	}
	if lid := c.req.param("listId"); lid != "" {
		n, err := strconv.ParseInt(lid, 10, 64)
		if err != nil {
			return nil, errCode("1001", "Invalid value '%s' for listId", clip(lid))
		}
		c.path = []string{strconv.FormatInt(n, 10)}
		l, err := c.list()
		if err != nil {
			return nil, err
		}
		members := map[string]bool{}
		ps, err := c.visiblePeople()
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.InList(l.Key) && (people == nil || people[p.ID]) {
				members[p.ID] = true
			}
		}
		people = members
	}
	var picked []*storage.Activity
	last := after
	more := false
scan:
	for {
		page, err := c.tx.ActivityPage(last, time.Time{}, 500)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			if len(picked) == size {
				more = true // something is left after the page
				break scan
			}
			last = a.Seq
			if a.Workspace != c.ws.Name || a.Person == "" || (len(types) > 0 && !types[a.Type]) || (people != nil && !people[a.Person]) {
				continue
			}
			picked = append(picked, a)
		}
	}
	var persons []*storage.Person
	for _, a := range picked {
		persons = append(persons, &storage.Person{ID: a.Person})
	}
	leadOf, err := c.leadIDsOf(persons)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(picked))
	for _, a := range picked {
		j := map[string]any{"id": a.Seq, "marketoGUID": strconv.FormatInt(a.Seq, 10), "leadId": leadOf[a.Person],
			"activityDate": a.Time.UTC().Format(time.RFC3339), "activityTypeId": typeByName[a.Type].ID,
			"primaryAttributeValue": a.Primary, "attributes": attrsJSON(a)}
		camp := a.Campaign
		if camp == "" && a.Type == stdlib.ActRequestCampaign {
			camp = a.Primary // the requested campaign
		}
		if camp != "" {
			if cp := c.s.prog.Campaign(a.Workspace, camp); cp != nil {
				j["campaignId"] = c.s.campaignID[cp]
			}
		}
		out = append(out, j)
	}
	return &reply{Result: out, NextPageToken: pageToken("act", last), MoreResult: ptr(more)}, nil
}

func attrsJSON(a *storage.Activity) []map[string]any {
	out := []map[string]any{}
	for _, at := range a.Attributes {
		out = append(out, map[string]any{"name": at.Key, "value": at.Value.Any()})
	}
	if a.Campaign != "" {
		out = append(out, map[string]any{"name": "Campaign", "value": a.Campaign})
	}
	return out
}
